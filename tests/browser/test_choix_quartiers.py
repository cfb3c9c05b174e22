"""An Administrateur picks the contract's quartiers in the browser, with the keyboard only:
searches the référentiel, adds a quartier, removes another; the page (with results, and
with a refusal) passes axe-core and fits a desktop's and a phone's window."""

import datetime

import pytest
from django.urls import reverse

from comptes.roles import Role
from diagnostics.models import Commune, Diagnostic
from tests.browser import (
    assert_accessible,
    assert_fits_viewport,
    assert_no_word_broken_in_cells,
    login,
    screenshot,
)
from tests.factories import (
    ContratFactory,
    DiagnosticFactory,
    DifficulteFactory,
    QuartierFactory,
    UserFactory,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def contrat():
    return ContratFactory(nom="Contrat de ville de Montluçon", slug="montlucon")


@pytest.fixture
def site(contrat):
    """A published edition and a draft on Rive Gauche; Fontbouillant and Bien-Assis in
    the référentiel, and a quartier of a long name spanning two communes."""
    rive = QuartierFactory(code="QN00304M", nom="Rive Gauche", communes=["03185"])
    QuartierFactory(code="QN00305M", nom="Fontbouillant", communes=["03185", "03211"])
    QuartierFactory(code="QN00306M", nom="Bien-Assis", communes=["03185", "03101"])
    QuartierFactory(
        code="QN00399M",
        nom="Quartier des Anciennes Usines Dunlop et de la Cité Ouvrière de Montluçon",
        communes=["03185", Commune.objects.create(code="03082", nom="Désertines")],
    )
    publiee = DiagnosticFactory(
        contrat=contrat, nom_edition="Diagnostic initial", date_edition=datetime.date(2024, 3, 1)
    )
    brouillon = DiagnosticFactory(
        contrat=contrat,
        brouillon=True,
        nom_edition="Révision à mi-parcours",
        date_edition=datetime.date(2027, 3, 1),
    )
    for edition in (publiee, brouillon):
        edition.quartiers.set([rive])
    return publiee, brouillon


@pytest.fixture
def administrateur(contrat):
    return UserFactory(
        username="nadia",
        first_name="Nadia",
        last_name="Benali",
        role=Role.ADMINISTRATEUR,
        contrat=contrat,
    )


def tab_to(page, name, limit=80):
    """Press Tab until the focused link, button or field has `name` in its text or label."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " if (!['A', 'BUTTON', 'INPUT'].includes(e.tagName)) return '';"
            " const label = e.labels && e.labels.length ? e.labels[0].textContent : '';"
            " return label + ' ' + e.textContent; }"
        )
        if name in focused:
            return
    raise AssertionError(f"« {name} » n'est pas atteignable au clavier")


def codes(edition):
    return sorted(edition.quartiers.values_list("code", flat=True))


def test_an_administrator_picks_the_quartiers_with_the_keyboard(
    page, contrat, site, administrateur
):
    publiee, brouillon = site
    login(page, administrateur)
    page.goto(reverse("diagnostics:quartiers_contrat", args=[contrat.slug]))
    assert page.get_by_role("heading", level=1).inner_text() == "Quartiers du contrat"
    assert_accessible(page)

    tab_to(page, "Rechercher dans le référentiel")
    page.keyboard.type("montlucon")
    page.keyboard.press("Enter")
    page.wait_for_url("**?recherche=montlucon")
    main = page.locator("main").inner_text()
    assert "4 quartiers trouvés" in main
    assert "Déjà dans le contrat" in main
    screenshot(page, "choix-quartiers")
    assert_accessible(page)
    assert_fits_viewport(page)
    assert_no_word_broken_in_cells(page)

    tab_to(page, "Ajouter Bien-Assis (QN00306M)")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Quartier ajouté : Bien-Assis (QN00306M)." in page.locator("main").inner_text()
    assert codes(brouillon) == codes(publiee) == ["QN00304M", "QN00306M"]
    assert (
        page.get_by_label("Rechercher dans le référentiel").input_value() == "montlucon"
    )  # the search stays

    tab_to(page, "Retirer Rive Gauche (QN00304M)")
    page.keyboard.press("Space")
    tab_to(page, "Retirer les quartiers cochés")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Quartier retiré : Rive Gauche (QN00304M)." in page.locator("main").inner_text()
    assert codes(brouillon) == ["QN00306M"]


@pytest.mark.parametrize("width", [1280, 375])
def test_a_refusal_is_readable_and_accessible(
    page, contrat, site, administrateur, width, browser_errors
):
    _, brouillon = site
    DifficulteFactory(
        sous_theme__theme__pilier__diagnostic=brouillon,
        quartiers=list(brouillon.quartiers.all()),
    )
    page.set_viewport_size({"width": width, "height": 900})
    login(page, administrateur)
    page.goto(reverse("diagnostics:quartiers_contrat", args=[contrat.slug]) + "?recherche=QN003")

    page.get_by_label("Retirer Rive Gauche (QN00304M)").check()
    page.get_by_role("button", name="Retirer les quartiers cochés").click()

    alert = page.get_by_role("alert")
    assert "ne peut pas être retiré : 1 difficulté s'y rapporte encore" in alert.inner_text()
    assert codes(brouillon) == ["QN00304M"]
    screenshot(page, f"choix-quartiers-refus-{width}")
    assert_accessible(page)
    assert_fits_viewport(page)
    assert_no_word_broken_in_cells(page)
    assert Diagnostic.objects.filter(quartiers__code="QN00304M").count() == 2
    # The refusal is answered 409 (Conflict), which the browser logs: expected here.
    assert [error for error in browser_errors if "status of 409" in error]
    browser_errors[:] = [error for error in browser_errors if "status of 409" not in error]
