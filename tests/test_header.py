"""The header offers only what the visitor can use (templates/base.html): every link of
an anonymous visitor's header answers without sending them to the login page, or is the
login link itself; the search box is offered only when its page answers."""

import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from comptes.roles import Role
from tests.factories import DiagnosticFactory, PilierFactory, ThemeFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGES = ("login", "accessibilite", "password_reset")


def header(client, url):
    page = client.get(url).content.decode()
    return re.search(r"<header.*?</header>", page, re.S).group()


def links(html):
    return re.findall(r'<a [^>]*href="([^"#]+)"', html)


def check_every_link(client, html):
    """Each link of the header answers 200, or is the login page's."""
    login = reverse("login")
    checked = []
    for href in links(html):
        if urlsplit(href).path == login:
            continue
        response = client.get(href)
        assert response.status_code == 200, (href, response.status_code, response.get("Location"))
        checked.append(href)
    form = re.search(r'<form class="recherche"[^>]*action="([^"]+)"', html)
    if form:
        response = client.get(form.group(1), {"q": "santé"})
        assert response.status_code == 200, (form.group(1), response.get("Location"))
        checked.append(form.group(1))
    return checked


@pytest.mark.parametrize("page", PAGES)
def test_with_nothing_public_an_anonymous_header_offers_the_home_and_the_login(client, page):
    DiagnosticFactory()  # published, not public
    DiagnosticFactory(brouillon=True, public=True)  # a draft is never public

    html = header(client, reverse(page))

    assert set(check_every_link(client, html)) == {reverse("home")}
    assert {urlsplit(href).path for href in links(html)} == {reverse("home"), reverse("login")}
    assert "Se connecter" in html
    assert 'role="search"' not in html


def test_with_a_public_diagnostic_an_anonymous_header_offers_what_answers(client):
    ThemeFactory(pilier=PilierFactory(diagnostic=DiagnosticFactory(public=True)))

    html = header(client, reverse("login"))

    checked = check_every_link(client, html)
    assert reverse("home") in checked
    assert reverse("diagnostics:difficultes") in checked
    assert reverse("indicateurs:liste") in checked
    assert reverse("diagnostics:recherche") in checked


def test_a_public_diagnostic_without_themes_offers_the_home_and_search_not_the_lists(client):
    DiagnosticFactory(public=True)

    html = header(client, reverse("login"))

    checked = check_every_link(client, html)
    assert reverse("home") in checked
    assert reverse("diagnostics:recherche") in checked
    assert reverse("diagnostics:difficultes") not in links(html)
    assert reverse("indicateurs:liste") not in links(html)


def test_a_signed_in_partner_keeps_the_search_and_the_menu(client):
    diagnostic = DiagnosticFactory()
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=diagnostic.contrat))

    html = header(client, reverse("home"))

    assert 'role="search"' in html
    assert "Navigation principale" in html
    checked = check_every_link(client, html)
    assert reverse("diagnostics:difficultes") in checked


def test_the_anonymous_check_costs_one_query(client, django_assert_num_queries):
    DiagnosticFactory()
    with django_assert_num_queries(1):
        client.get(reverse("accessibilite"))
