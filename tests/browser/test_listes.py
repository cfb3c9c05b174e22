"""A partner filters the lists, downloads a filtered list and searches, in a real browser."""

import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser import login

pytestmark = pytest.mark.browser

MONTEE_DES_ADDICTIONS = re.compile(r"^Montée des conduites addictives pour 11 - 15 ans")
DESENGAGEMENT_DES_JEUNES = re.compile(r"^Désengagement des jeunes")


def test_a_partner_filters_the_difficultes_by_quartier_then_by_words(page, montlucon, partenaire):
    login(page, partenaire)
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Difficultés"
    ).click()
    filtres = page.get_by_role("form", name="Filtrer la liste")
    libelles = page.get_by_role("main").locator(".liste-elements .element-libelle")

    def nombre(texte):
        return page.get_by_role("heading", level=2, name=texte, exact=True)

    filtres.get_by_label("Quartier prioritaire").select_option(label="Rive Gauche (QN00304M)")
    filtres.get_by_label("Périmètre").select_option(label="Ce quartier seulement")
    filtres.get_by_role("button", name="Filtrer").click()

    expect(page).to_have_url(re.compile(r"[?&]quartier=QN00304M"))
    expect(page).to_have_url(re.compile(r"[?&]perimetre=quartier-seulement"))
    expect(nombre("2 difficultés")).to_be_visible()
    expect(libelles).to_have_text([MONTEE_DES_ADDICTIONS, DESENGAGEMENT_DES_JEUNES])
    expect(
        page.locator(".liste-elements > li .badge-quartier", has_text="Rive Gauche")
    ).to_have_count(2)

    filtres.get_by_label("Mots du libellé").fill("jeunes")
    filtres.get_by_role("button", name="Filtrer").click()

    expect(nombre("1 difficulté")).to_be_visible()
    expect(libelles).to_have_text([DESENGAGEMENT_DES_JEUNES])

    filtres.get_by_role("link", name="Réinitialiser les filtres").click()
    filtres.get_by_label("Mots du libellé").fill("decrochage")
    filtres.get_by_role("button", name="Filtrer").click()

    expect(libelles).to_have_text(
        ["Un grand nombre de jeunes entre 16 et 25 ans sont en situation de décrochage scolaire."]
    )


def test_the_xlsx_download_of_a_filtered_list_holds_the_rows_of_that_list(
    page, montlucon, partenaire, tmp_path
):
    login(page, partenaire)
    page.goto(
        f"{reverse('diagnostics:difficultes')}?diagnostic={montlucon.slug}&quartier=QN00304M"
        "&perimetre=quartier-seulement"
    )
    affiches = page.get_by_role("main").locator(".liste-elements .element-libelle")
    expect(affiches).to_have_count(2)

    with page.expect_download() as telechargement:
        page.get_by_role("link", name="classeur Excel (XLSX)").click()

    fichier = telechargement.value
    assert fichier.suggested_filename.endswith(".xlsx")
    chemin = tmp_path / fichier.suggested_filename
    fichier.save_as(chemin)
    classeur = load_workbook(chemin, read_only=True)
    entete, *lignes = classeur.active.iter_rows(values_only=True)
    classeur.close()
    assert entete == (
        "Diagnostic",
        "Pilier",
        "Thème",
        "Sous-thème",
        "Libellé",
        "Quartiers",
        "Source",
    )
    assert [ligne[4] for ligne in lignes] == affiches.all_inner_texts()
    assert [ligne[:4] for ligne in lignes] == [
        (montlucon.titre, "1. COHESION SOCIALE", "Santé", "Éducation à la santé et prévention"),
        (montlucon.titre, "1. COHESION SOCIALE", "Jeunesse", "Accès à la citoyenneté"),
    ]
    assert [ligne[5] for ligne in lignes] == [
        "Rive Gauche (QN00304M)",
        "Rive Gauche (QN00304M), Bien-Assis (QN00306M)",
    ]


def test_searching_sante_from_the_header_finds_the_theme_sante(page, montlucon, partenaire):
    login(page, partenaire)

    champ = page.get_by_role("banner").get_by_role(
        "searchbox", name="Rechercher dans les diagnostics"
    )
    champ.fill("sante")
    champ.press("Enter")

    expect(page).to_have_url(re.compile(r"/recherche/\?q=sante$"))
    sante = (
        page.get_by_role("main")
        .locator(".resultat")
        .filter(has=page.get_by_role("link", name="Santé", exact=True))
    )
    expect(sante).to_have_count(1)
    expect(sante).to_contain_text("Thème")
