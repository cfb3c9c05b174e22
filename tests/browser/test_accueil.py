"""The home page at a desktop width (1280 px) and a phone's (375 px), as an anonymous
visitor, a partner, the Équipe ville and an Administrateur: each sees their contract with
its key figures and the links of their role, nothing wider than the window, and axe-core
finds nothing."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from comptes.roles import Role
from diagnostics.models import Difficulte, Pilier
from indicateurs.models import Indicateur
from tests.browser import (
    assert_accessible,
    assert_fits_viewport,
    assert_no_word_broken_in_cells,
    login,
    screenshot,
)
from tests.factories import (
    DiagnosticFactory,
    DifficulteFactory,
    ImportFactory,
    UserFactory,
)

pytestmark = pytest.mark.browser

LARGEURS = [1280, 375]
ROLES = ["anonyme", "partenaire", "equipe-ville", "administrateur"]
LONG_FILE = "diagnostic-montlucon-version-definitive-validee-en-comite-de-pilotage-2025.xlsx"


@pytest.fixture
def site(montlucon):
    """Montluçon's seed, published and public, its last import a file with a very long
    name, and a draft edition with one difficulté."""
    montlucon.est_public = True
    montlucon.save()
    ImportFactory(diagnostic=montlucon, nom_fichier=LONG_FILE)
    brouillon = DiagnosticFactory(
        contrat=montlucon.contrat,
        brouillon=True,
        nom_edition="Révision à mi-parcours — 2027",
        titre="Révision à mi-parcours",
    )
    DifficulteFactory(sous_theme__theme__pilier__diagnostic=brouillon)
    return montlucon, brouillon


def visitor(name, contrat):
    role = {
        "partenaire": Role.PARTENAIRE,
        "equipe-ville": Role.EQUIPE_VILLE,
        "administrateur": Role.ADMINISTRATEUR,
    }.get(name)
    if role is None:
        return None
    return UserFactory(first_name="Claire", last_name="Martin", role=role, contrat=contrat)


@pytest.mark.parametrize("largeur", LARGEURS)
@pytest.mark.parametrize("role", ROLES)
def test_the_home_orients_each_role_and_fits_the_window(page, site, role, largeur):
    diagnostic, brouillon = site
    user = visitor(role, diagnostic.contrat)
    page.set_viewport_size({"width": largeur, "height": 900})
    if user is not None:
        login(page, user)

    page.goto(reverse("home"))

    main = page.get_by_role("main")
    contrat = main.get_by_role("listitem").filter(
        has=page.get_by_role("heading", level=2, name=diagnostic.contrat.nom)
    )
    expect(contrat).to_be_visible()
    # The key figures of the published edition, as counted in the database.
    edition = contrat.locator("section").filter(
        has=page.get_by_role("heading", level=3, name=diagnostic.nom_edition)
    )
    for label, count in (
        ("Piliers", Pilier.objects.filter(diagnostic=diagnostic).count()),
        ("Difficultés prégnantes", Difficulte.objects.du_diagnostic(diagnostic).count()),
        ("Indicateurs", Indicateur.objects.du_diagnostic(diagnostic).count()),
        ("Quartiers", diagnostic.quartiers.count()),
    ):
        expect(
            edition.locator(f"dl.chiffres-accueil div:has(dt:text-is('{label}')) dd")
        ).to_have_text(str(count))
    expect(edition).to_contain_text(LONG_FILE)
    expect(edition.get_by_role("link", name="Tableau de bord des indicateurs")).to_be_visible()

    editor = role in ("equipe-ville", "administrateur")
    expect(edition.get_by_role("link", name="Dernières modifications")).to_have_count(int(editor))
    if editor:
        expect(main).to_contain_text("Édition en préparation : Révision à mi-parcours")
    else:
        expect(main).not_to_contain_text("Révision à mi-parcours")
    expect(contrat.get_by_role("link", name="Membres")).to_have_count(int(role == "administrateur"))
    if user is None:
        expect(main).to_contain_text("se connectent")
    else:
        expect(contrat).to_contain_text("Votre rôle")

    assert_fits_viewport(page)
    assert_no_word_broken_in_cells(page)
    screenshot(page, f"accueil-{largeur}-{role}")
    assert_accessible(page)

    # The way to the tableau de bord.
    edition.get_by_role("link", name="Tableau de bord des indicateurs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord des indicateurs")


@pytest.mark.parametrize("largeur", LARGEURS)
def test_the_introduction_of_a_visitor_with_no_contract_fits(page, largeur):
    page.set_viewport_size({"width": largeur, "height": 900})

    page.goto(reverse("home"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Diagnostics des contrats de ville")
    page.get_by_role("link", name="se connectent").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert "/connexion/" in page.url
    page.go_back()
    assert_fits_viewport(page)
    screenshot(page, f"accueil-{largeur}-sans-contrat")
    assert_accessible(page)
