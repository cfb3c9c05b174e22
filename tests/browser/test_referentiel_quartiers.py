"""The page of the QPV référentiel (/quartiers/referentiel/), as the platform's
administrator, at a desktop width and a phone's: the state, a file loaded through the form
and its report, a refused file and its errors; nothing wider than the window, and axe-core
finds nothing."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from diagnostics.models import Quartier
from tests.browser import (
    assert_accessible,
    assert_fits_viewport,
    assert_no_word_broken_in_cells,
    login,
    screenshot,
)
from tests.diagnostics.quartiers.test_referentiel import geojson, montlucon_2024, objet
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

LARGEURS = [1280, 375]
LONG_FILE = "QP2024_France_Hexagonale_Outre_Mer_Contours_WGS84_version_definitive.geojson"


@pytest.fixture
def national(page):
    user = UserFactory(
        username="plateforme", first_name="Anne", last_name="Plateforme", is_superuser=True
    )
    login(page, user)
    return user


@pytest.mark.parametrize("largeur", LARGEURS)
def test_the_administrator_loads_the_referentiel_and_reads_the_report(
    page, national, tmp_path, largeur
):
    page.set_viewport_size({"width": largeur, "height": 900})
    path = tmp_path / LONG_FILE
    path.write_bytes(montlucon_2024())

    page.goto(reverse("diagnostics:referentiel_quartiers"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Référentiel des quartiers prioritaires"
    )
    expect(page.get_by_role("main")).to_contain_text("ne compte encore aucun quartier")
    assert_accessible(page)

    page.get_by_label("Fichier du référentiel").set_input_files(path)
    with page.expect_navigation():
        page.get_by_role("button", name="Charger le fichier").click()

    rapport = page.get_by_role("region", name="Compte rendu de l’import")
    expect(rapport).to_contain_text("Créés : 3 (QN00304M, QN00305M, QN00306M).")
    expect(page.get_by_role("main")).to_contain_text("3 quartiers prioritaires, dans 3 communes")
    expect(page.get_by_role("table")).to_contain_text(LONG_FILE)
    assert Quartier.objects.count() == 3
    assert_fits_viewport(page)
    assert_no_word_broken_in_cells(page)
    screenshot(page, f"referentiel-{largeur}-rapport")
    assert_accessible(page)


@pytest.mark.parametrize("largeur", LARGEURS)
def test_a_refused_file_shows_its_errors(page, national, tmp_path, largeur):
    page.set_viewport_size({"width": largeur, "height": 900})
    path = tmp_path / "qpv.geojson"
    path.write_bytes(geojson(objet("QN304", "", "03185"), objet("QN00305M", "Fontbouillant", "x")))

    page.goto(reverse("diagnostics:referentiel_quartiers"))
    page.get_by_label("Fichier du référentiel").set_input_files(path)
    with page.expect_navigation():
        page.get_by_role("button", name="Charger le fichier").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Le fichier est refusé (3 erreurs)")
    expect(alert).to_contain_text("Objet n° 2 : le code de commune « X »")
    assert not Quartier.objects.exists()
    assert_fits_viewport(page)
    screenshot(page, f"referentiel-{largeur}-refus")
    assert_accessible(page)
