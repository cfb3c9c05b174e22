"""Every type of page passes axe-core's WCAG 2.1 A and AA rules (RGAA's automatable part).

Each page is also saved as a full-page screenshot under tests/screenshots/, for review.
"""

import pytest
from django.urls import reverse

from diagnostics.models import SousTheme
from tests.browser import assert_accessible, login, screenshot

pytestmark = pytest.mark.browser


def sous_theme(diagnostic):
    return SousTheme.objects.get(
        theme__pilier__diagnostic=diagnostic, libelle="Éducation à la santé et prévention"
    )


def source(diagnostic):
    """The cell of the source table that the sous-thème's difficultés came from."""
    difficulte = sous_theme(diagnostic).difficultes.first()
    return reverse(
        "diagnostics:source", kwargs={"slug": diagnostic.slug, "pk": difficulte.source_id}
    )


# (page type, signed in as a partner, address)
PAGES = [
    ("accueil", True, lambda d: reverse("home")),
    ("connexion", False, lambda d: reverse("login")),
    ("mot-de-passe-oublie", False, lambda d: reverse("password_reset")),
    ("diagnostic", True, lambda d: d.get_absolute_url()),
    ("pilier", True, lambda d: d.piliers.get(numero=1).get_absolute_url()),
    ("sous-theme", True, lambda d: sous_theme(d).get_absolute_url()),
    ("source", True, source),
    ("difficultes", True, lambda d: f"{reverse('diagnostics:difficultes')}?diagnostic={d.slug}"),
    ("indicateurs", True, lambda d: f"{reverse('indicateurs:liste')}?diagnostic={d.slug}"),
    ("recherche", True, lambda d: f"{reverse('diagnostics:recherche')}?q=sante"),
    ("accessibilite", True, lambda d: reverse("accessibilite")),
]


@pytest.mark.parametrize(("nom", "connecte", "adresse"), PAGES, ids=[nom for nom, _, _ in PAGES])
def test_page_passes_axe(page, montlucon, partenaire, nom, connecte, adresse):
    if connecte:
        login(page, partenaire)

    response = page.goto(adresse(montlucon))

    assert response.status == 200
    screenshot(page, nom)
    assert_accessible(page)


def test_the_404_page_passes_axe(page, live_server, montlucon, partenaire, browser_errors):
    login(page, partenaire)
    adresse = f"{live_server.url}/diagnostics/diagnostic-inconnu/"

    response = page.goto(adresse)

    assert response.status == 404
    # Chromium reports the page's own 404 status as a console error: expected here.
    browser_errors[:] = [error for error in browser_errors if adresse not in error]
    screenshot(page, "erreur-404")
    assert_accessible(page)


def test_the_check_itself_reports_a_violation_and_a_javascript_error(page, browser_errors):
    """The two nets of these tests catch what they should (a harmless page, built here)."""
    page.set_content('<html lang="fr"><title>Essai</title><main><img src="data:,"></main>')

    with pytest.raises(pytest.fail.Exception, match=r"image-alt \(critical\)[\s\S]*img"):
        assert_accessible(page)

    with page.expect_console_message():
        page.evaluate("() => console.error('Erreur volontaire')")
    with page.expect_event("pageerror"):
        page.evaluate("() => setTimeout(() => null.x)")
    assert [error.split(" : ")[0] for error in browser_errors] == ["console", "exception"]
    browser_errors.clear()
