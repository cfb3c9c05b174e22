"""The fiche quartier in a browser, at a desktop width and a phone's: its map of the
demo outlines, its difficultés, its indicators with a value hidden by the secret
statistique and its chart opened; nothing wider than the window, no word broken in a
cell, and axe-core finds nothing, as an anonymous visitor and as the Équipe ville."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from comptes.roles import Role
from diagnostics.models import Quartier
from indicateurs.models import Mesure, TerritoireComparaison
from tests.browser import (
    assert_accessible,
    assert_fits_viewport,
    assert_no_word_broken_in_cells,
    login,
    screenshot,
)
from tests.browser.conftest import ROOT
from tests.factories import (
    DiagnosticFactory,
    DifficulteFactory,
    PilierFactory,
    SousThemeFactory,
    ThemeFactory,
    UserFactory,
)
from tests.indicateurs_data import mesure, quantitatif, repere, serie

pytestmark = pytest.mark.browser

RIVE_GAUCHE, FONTBOUILLANT = "QN00304M", "QN00305M"


@pytest.fixture
def edition():
    call_command("loaddata", ROOT / "fixtures" / "quartiers-montlucon.json", verbosity=0)
    diagnostic = DiagnosticFactory(
        public=True,
        titre="Contrat de ville de Montluçon Communauté — diagnostic partagé",
        territoire="Montluçon Communauté",
    )
    diagnostic.quartiers.set(Quartier.objects.all())
    quartiers = {q.code: q for q in Quartier.objects.all()}
    pilier = PilierFactory(diagnostic=diagnostic, numero=1, libelle="Cohésion sociale")
    sous_theme = SousThemeFactory(
        theme=ThemeFactory(pilier=pilier, libelle="Éducation"),
        libelle="Programme de Réussite Éducative",
    )
    DifficulteFactory(
        sous_theme=sous_theme,
        libelle="Décrochage scolaire marqué au collège, en particulier chez les garçons",
        quartiers=[quartiers[RIVE_GAUCHE]],
    )
    DifficulteFactory(sous_theme=sous_theme, libelle="Isolement des familles monoparentales")
    jeunes = quantitatif(
        diagnostic,
        pilier=pilier,
        libelle="Jeunes de 16 à 25 ans accompagnés par la mission locale",
        unite="jeunes",
        compte_des_personnes=True,
        sens_souhaite="hausse",
    )
    serie(jeunes, {2022: 11, 2023: 10, 2024: 12})
    serie(jeunes, {2022: 7, 2023: 6, 2024: 3}, quartiers[RIVE_GAUCHE])
    serie(jeunes, {2022: 4, 2023: 4, 2024: 9}, quartiers[FONTBOUILLANT])
    chomage = quantitatif(
        diagnostic,
        pilier=pilier,
        libelle="Taux de chômage des 15-64 ans (demandeurs d'emploi de catégorie A)",
        sens_souhaite="baisse",
    )
    serie(
        chomage, {2020: "31.2", 2021: "30.5", 2022: "29.75", 2023: "28.25"}, quartiers[RIVE_GAUCHE]
    )
    repere(chomage, Mesure.Nature.REFERENCE, 2020, "31.2", quartiers[RIVE_GAUCHE])
    repere(chomage, Mesure.Nature.CIBLE, 2030, 25, quartiers[RIVE_GAUCHE])
    commune = TerritoireComparaison.objects.create(
        code="03185", nom="Montluçon (commune)", echelon="commune"
    )
    mesure(chomage, 2023, "18.25", territoire=commune)
    return diagnostic


@pytest.mark.parametrize("largeur", [1280, 375])
@pytest.mark.parametrize("role", [None, Role.EQUIPE_VILLE])
def test_the_fiche_quartier_is_accessible_and_fits_the_window(page, edition, role, largeur):
    page.set_viewport_size({"width": largeur, "height": 900})
    if role is not None:
        login(page, UserFactory(role=role, contrat=edition.contrat))

    page.goto(reverse("fiche_quartier", args=[edition.slug, RIVE_GAUCHE]))

    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=1)).to_contain_text("Rive Gauche")
    expect(main.locator("figure.carte-figure svg")).to_be_visible()
    expect(main).to_contain_text("Décrochage scolaire marqué au collège")
    jeunes = main.get_by_role("row").filter(has_text="Jeunes de 16 à 25 ans")
    expect(jeunes).to_contain_text("3 jeunes" if role else "secret")
    for summary in main.locator("details.fiche-serie summary").all():
        summary.click()
    expect(main.locator("details.fiche-serie svg.graphique").first).to_be_visible()
    screenshot(page, f"fiche-quartier-{'equipe' if role else 'anonyme'}-{largeur}")
    assert_fits_viewport(page)
    assert_no_word_broken_in_cells(page)
    assert_accessible(page)


def test_a_quartier_of_the_map_leads_to_its_own_fiche(page, edition):
    page.goto(reverse("fiche_quartier", args=[edition.slug, RIVE_GAUCHE]))

    page.locator("figure.carte-figure").get_by_role("link", name="Fontbouillant").first.click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Fontbouillant")
    assert_accessible(page)
