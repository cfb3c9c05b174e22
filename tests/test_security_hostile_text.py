"""Hostile text (markup, javascript: URLs, very long words, right-to-left overrides, emoji,
template syntax) imported through the importers and typed into the forms is stored as
text and every page of the site shows it as text (escaped HTML). The same pages are
checked in a real browser by tests/browser/test_hostile_text.py."""

import re
from html import escape
from urllib.parse import urldefrag, urlsplit

import pytest
from django.urls import reverse

from diagnostics.models import Difficulte, Pilier, SousTheme, Theme
from indicateurs.models import Indicateur, Mesure
from tests import hostile
from tests.factories import PASSWORD, UserFactory

MAX_PAGES = 150
MAX_PER_KIND = 2  # see page_kind
SKIPPED = re.compile(r"^/(static|admin|deconnexion)/|\.(csv|xlsx|tsv)(\?|$)")
LINK = re.compile(r'\shref="(/[^"]*)"')
SCRIPT_URL = re.compile(r"""(href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.I)


def start_urls(diagnostic):
    return [
        reverse("home"),
        diagnostic.get_absolute_url(),
        reverse("diagnostics:difficultes"),
        reverse("indicateurs:liste"),
        f"{reverse('diagnostics:recherche')}?q=script",
        f"{reverse('diagnostics:recherche')}?q={hostile.SCRIPT}",
    ]


def page_kind(url):
    """Pages of one kind (another item, another filter value, another return address) are
    the same template: a crawl visits a few of each kind, not all of them."""
    parts = urlsplit(url)
    keys = sorted({pair.split("=")[0] for pair in parts.query.split("&") if pair} - {"retour"})
    return re.sub(r"/\d+(?=/|$)", "/N", parts.path), tuple(keys)


def crawl(client, urls, max_pages=MAX_PAGES):
    """The pages of the site reachable from these, as this client: {url: response}."""
    seen, queue, pages, kinds = set(), list(urls), {}, {}
    while queue and len(pages) < max_pages:
        url = urldefrag(queue.pop(0)).url.replace("&amp;", "&")
        if url in seen or SKIPPED.search(url):
            continue
        seen.add(url)
        kind = page_kind(url)
        kinds[kind] = kinds.get(kind, 0) + 1
        if kinds[kind] > MAX_PER_KIND:
            continue
        response = client.get(url)
        pages[url] = response
        if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
            queue += LINK.findall(response.content.decode())
    return pages


@pytest.fixture
def diagnostic_and_admin():
    return hostile.build_hostile_diagnostic()


def test_the_importers_store_the_hostile_text_as_it_was(diagnostic_and_admin):
    diagnostic, _ = diagnostic_and_admin

    assert Pilier.objects.get(diagnostic=diagnostic).libelle == "Pilier <script>alert(1)</script>"
    assert Theme.objects.get(pilier__diagnostic=diagnostic).libelle == hostile.THEME
    assert SousTheme.objects.get(theme__pilier__diagnostic=diagnostic).libelle == (
        hostile.SOUS_THEME
    )
    stored = set(Difficulte.objects.du_diagnostic(diagnostic).values_list("libelle", flat=True))
    assert stored == {*hostile.DIFFICULTES, hostile.THEME_LEVEL_DIFFICULTE}
    assert Indicateur.objects.du_diagnostic(diagnostic).get().libelle == hostile.INDICATEUR
    for mesure in Mesure.objects.all():
        assert (mesure.commentaire, mesure.source) == (hostile.COMMENTAIRE, hostile.MEASURE_SOURCE)


def assert_shown_as_text(url, response):
    html = response.content.decode()
    for markup in hostile.RAW_MARKUP:
        assert markup not in html, f"{url} : « {markup} » dans le HTML, non échappé"
    assert not SCRIPT_URL.search(html), f"{url} : un lien javascript:"


@pytest.mark.parametrize("role", ["administrateur", "anonyme"])
def test_every_page_shows_the_hostile_text_as_text(client, diagnostic_and_admin, role):
    diagnostic, administrateur = diagnostic_and_admin
    if role == "administrateur":
        client.force_login(administrateur)

    pages = crawl(client, start_urls(diagnostic))

    assert len(pages) > (15 if role == "administrateur" else 8), list(pages)
    for url, response in pages.items():
        assert response.status_code in (200, 302, 403, 404), (url, response.status_code)
        assert_shown_as_text(url, response)
    shown = "".join(r.content.decode() for r in pages.values() if r.status_code == 200)
    for text in [*hostile.DIFFICULTES, hostile.PILIER[2:], hostile.THEME, hostile.INDICATEUR]:
        assert escape(text) in shown, f"« {text} » n'apparaît sur aucune page"
    if role == "administrateur":
        assert escape(hostile.COMMENTAIRE) in shown


def test_the_login_form_gives_back_a_hostile_account_name_as_text(client):
    response = client.post(reverse("login"), {"username": hostile.IMG, "password": "x"})

    assert_shown_as_text("connexion", response)
    assert f'value="{escape(hostile.IMG)}"' in response.content.decode()


def test_a_hostile_name_of_a_user_is_shown_as_text(client, diagnostic_and_admin):
    """The administrator's first and last names are hostile too (in the page's header)."""
    _, administrateur = diagnostic_and_admin
    client.force_login(administrateur)

    response = client.get(reverse("accessibilite"))

    assert_shown_as_text("accessibilite", response)
    assert escape(administrateur.get_full_name()) in response.content.decode()


def test_the_admin_shows_the_hostile_text_as_text(client, diagnostic_and_admin):
    diagnostic, _ = diagnostic_and_admin
    # The admin is the national administrator's; their names are hostile as well.
    client.force_login(
        UserFactory(is_superuser=True, first_name=hostile.SCRIPT, last_name=hostile.IMG)
    )
    difficulte = Difficulte.objects.du_diagnostic(diagnostic).first()

    for url in [
        reverse("admin:diagnostics_difficulte_changelist"),
        reverse("admin:diagnostics_difficulte_change", args=[difficulte.pk]),
        reverse("admin:diagnostics_pilier_changelist"),
        reverse("admin:indicateurs_indicateur_changelist"),
        reverse("admin:diagnostics_import_changelist"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_shown_as_text(url, response)


def test_passwords_are_kept_out_of_the_pages(client):
    """Not hostile text, but the same kind of leak: a wrong password is never echoed."""
    UserFactory(username="claire.martin")
    response = client.post(reverse("login"), {"username": "claire.martin", "password": PASSWORD})
    assert PASSWORD not in response.content.decode()
