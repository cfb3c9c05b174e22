"""Hostile text in a real browser: imported through the importers (tests/hostile.py) and
typed into the forms, it is shown as text on every page of the site that a crawl from
the diagnostic reaches: no dialog opens, no element or script is injected, and, with
the strict Content Security Policy on, no violation and no JavaScript error appears
(tests/browser/conftest.py fails the test on any console error)."""

from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import reverse

from comptes.roles import Role
from diagnostics.models import Difficulte, SousTheme
from indicateurs.models import Indicateur, Mesure
from tests import hostile
from tests.browser import login
from tests.factories import DiagnosticFactory, MembreFactory
from tests.test_security_hostile_text import MAX_PER_KIND, SKIPPED, page_kind, start_urls

pytestmark = pytest.mark.browser

MAX_PAGES = 90
TYPED_LIBELLE = f"Saisi {hostile.SCRIPT} {hostile.IMG} {hostile.JAVASCRIPT_URL}"
TYPED_NEW = f"Ajouté {hostile.IMG} {hostile.RTL_EMOJI}"
TYPED_COMMENT = f"Commentaire saisi {hostile.SCRIPT} {hostile.LONG_WORD}"

# How many pixels the page is wider than the window (a very long word must wrap).
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"

# Whatever the page holds that a payload would have injected.
INJECTED = """() => {
    const found = [];
    for (const element of document.querySelectorAll("*")) {
        for (const attribute of element.attributes) {
            const name = attribute.name.toLowerCase();
            if (name.startsWith("on")) found.push(`${element.tagName} ${name}`);
            if (["href", "src", "action", "formaction"].includes(name)
                    && /^\\s*javascript:/i.test(attribute.value)) {
                found.push(`${element.tagName} ${name}=${attribute.value}`);
            }
        }
    }
    for (const script of document.scripts) {
        if (!script.src && script.type !== "application/json") found.push("script inline");
    }
    for (const image of document.images) {
        if (image.getAttribute("src") === "x") found.push("img src=x");
    }
    return found;
}"""


@pytest.fixture
def dialogs(page):
    """Every dialog (alert, confirm, prompt) a page opens, dismissed and recorded."""
    opened = []

    def record(dialog):
        opened.append(f"{dialog.type} : {dialog.message} ({page.url})")
        dialog.dismiss()

    page.on("dialog", record)
    return opened


def assert_nothing_injected(page, dialogs):
    assert not dialogs, dialogs
    injected = page.evaluate(INJECTED)
    assert not injected, f"{page.url} : {injected}"


def type_hostile_text_in_the_forms(page, diagnostic, dialogs):
    difficulte = Difficulte.objects.du_diagnostic(diagnostic).order_by("pk").first()
    retour = diagnostic.piliers.get().get_absolute_url()

    # An item's libellé, changed through its edit form.
    page.goto(
        reverse(
            "diagnostics:element_modifier",
            kwargs={"slug": diagnostic.slug, "nature": "difficultes", "pk": difficulte.pk},
        )
        + f"?retour={retour}"
    )
    page.get_by_label("Libellé").fill(TYPED_LIBELLE)
    with page.expect_navigation():
        page.locator("main form [type=submit]").last.click()
    assert_nothing_injected(page, dialogs)

    # A new item, through the add form.
    page.goto(
        reverse(
            "diagnostics:element_ajouter",
            kwargs={
                "slug": diagnostic.slug,
                "niveau": "sous-themes",
                "pk": difficulte.sous_theme_id,
                "nature": "difficultes",
            },
        )
    )
    page.get_by_label("Libellé").fill(TYPED_NEW)
    with page.expect_navigation():
        page.locator("main form [type=submit]").last.click()
    assert_nothing_injected(page, dialogs)

    # A measure's comment, through its edit form.
    mesure = Mesure.objects.order_by("pk").first()
    page.goto(
        reverse("indicateurs:mesure_modifier", kwargs={"slug": diagnostic.slug, "pk": mesure.pk})
    )
    page.get_by_label("Commentaire").fill(TYPED_COMMENT)
    with page.expect_navigation():
        page.locator("main form [type=submit]").last.click()
    assert_nothing_injected(page, dialogs)

    # The search box of every page.
    page.get_by_label("Rechercher dans les diagnostics").fill(hostile.SCRIPT)
    with page.expect_navigation():
        page.get_by_role("button", name="Rechercher", exact=True).first.click()
    assert_nothing_injected(page, dialogs)


def crawl(page, dialogs, urls):
    """Visit the pages reachable from these (a few of each kind, see page_kind), checking
    each one. Returns the visited URLs."""
    base = page.url
    seen, queue, visited, kinds, too_wide = set(), list(urls), [], {}, []
    while queue and len(visited) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen or SKIPPED.search(url):
            continue
        seen.add(url)
        kind = page_kind(url)
        kinds[kind] = kinds.get(kind, 0) + 1
        if kinds[kind] > MAX_PER_KIND:
            continue
        response = page.goto(url)
        visited.append(url)
        assert response.status < 500, url
        assert_nothing_injected(page, dialogs)
        overflow = page.evaluate(OVERFLOW)
        if overflow > 0:
            too_wide.append(f"{url} : {overflow} px")
        if response.status == 200:
            for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
                absolute = urlsplit(urljoin(base, href))
                if absolute.netloc == urlsplit(base).netloc:
                    queue.append(absolute.path + (f"?{absolute.query}" if absolute.query else ""))
    assert not too_wide, "Pages plus larges que la fenêtre : " + ", ".join(too_wide)
    return visited


def test_hostile_text_is_shown_as_text_on_every_page(page, live_server, dialogs):
    diagnostic, administrateur = hostile.build_hostile_diagnostic()
    login(page, administrateur)

    type_hostile_text_in_the_forms(page, diagnostic, dialogs)
    visited = crawl(page, dialogs, start_urls(diagnostic))

    assert len(visited) > 40, visited
    # What was typed is there, as text.
    stored = set(Difficulte.objects.du_diagnostic(diagnostic).values_list("libelle", flat=True))
    assert {TYPED_LIBELLE, TYPED_NEW} <= stored
    page.goto(diagnostic.piliers.get().get_absolute_url())
    main = page.locator("main")
    imported = [text for text in hostile.DIFFICULTES if text in stored]
    assert len(imported) == len(hostile.DIFFICULTES) - 1  # one was changed through its form
    shown = main.inner_text()
    for text in [TYPED_LIBELLE, TYPED_NEW, *imported, hostile.INDICATEUR]:
        assert text in shown, text
    assert Mesure.objects.filter(commentaire=TYPED_COMMENT).exists()


@pytest.mark.parametrize("width", [1280, 320])
def test_a_very_long_word_does_not_widen_the_page(page, live_server, dialogs, width):
    diagnostic, _ = hostile.build_hostile_diagnostic()
    page.set_viewport_size({"width": width, "height": 900})

    indicateur = Indicateur.objects.du_diagnostic(diagnostic).get()
    for url in [
        diagnostic.get_absolute_url(),
        diagnostic.piliers.get().get_absolute_url(),
        SousTheme.objects.get(theme__pilier__diagnostic=diagnostic).get_absolute_url(),
        f"{reverse('diagnostics:difficultes')}?diagnostic={diagnostic.slug}",
        f"{reverse('diagnostics:recherche')}?q=anticonstitutionnellement",
        reverse("indicateurs:detail", kwargs={"slug": diagnostic.slug, "pk": indicateur.pk}),
    ]:
        page.goto(url)
        overflow = page.evaluate(OVERFLOW)
        assert overflow <= 0, f"{url} : {overflow} px de trop en largeur ({width} px)"
    assert_nothing_injected(page, dialogs)


def upload(page, nature, diagnostic_label, filename, content):
    page.goto(reverse("diagnostics:import_nouveau"))
    page.get_by_label(nature).check()
    page.locator("select[name=diagnostic]").select_option(label=diagnostic_label)
    page.locator("input[name=fichier]").set_input_files(
        {"name": filename, "mimeType": "application/octet-stream", "buffer": content}
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Voir l’aperçu").click()


def test_hostile_files_through_the_import_screens(page, live_server, dialogs):
    diagnostic, administrateur = hostile.build_hostile_diagnostic()
    autre = DiagnosticFactory(titre="Diagnostic 2025", slug="autre")
    MembreFactory(contrat=autre.contrat, compte=administrateur, role=Role.ADMINISTRATEUR)
    login(page, administrateur)

    # A diagnostic table: its preview lists the hostile names, then the import is confirmed.
    upload(page, "Tableau du diagnostic", autre.titre, hostile.FILENAME, hostile.source_table())
    assert_nothing_injected(page, dialogs)
    assert hostile.DIFFICULTES[0] in page.locator("main").text_content()  # in a folded level
    with page.expect_navigation():
        page.get_by_role("button", name="Confirmer l’import").first.click()
    assert_nothing_injected(page, dialogs)
    assert Difficulte.objects.du_diagnostic(autre).filter(libelle=hostile.DIFFICULTES[1]).exists()

    # Values whose errors quote the hostile cells back.
    bad_values = hostile.xlsx(
        [
            ["Indicateur", "Quartier", "Période", "Valeur", "Commentaire"],
            [hostile.SCRIPT, hostile.IMG, "2023", hostile.JAVASCRIPT_URL, hostile.COMMENTAIRE],
        ]
    )
    upload(page, "Valeurs d'indicateurs", diagnostic.titre, f"{hostile.SCRIPT}.xlsx", bad_values)
    assert_nothing_injected(page, dialogs)
    assert hostile.SCRIPT in page.locator("main").inner_text()
