"""An administrator imports the seed with preview and confirmation, finds it in the import
history, undoes it, imports it again, exports it to XLSX, and that XLSX imports into an
identical diagnostic: in a real browser, every new page checked by axe-core."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from comptes.roles import Role
from diagnostics.models import Diagnostic, Import
from tests.browser import assert_accessible, login, screenshot
from tests.conftest import SEED
from tests.diagnostics.imports.test_export_source import structure
from tests.factories import ContratFactory, UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def administratrice():
    """Sophie Durand, Administrateur of a contract that has no diagnostic yet: the imports
    are hers to make, and a new diagnostic she imports starts a contract she administers."""
    return UserFactory(
        username="sophie.durand",
        first_name="Sophie",
        last_name="Durand",
        role=Role.ADMINISTRATEUR,
        contrat=ContratFactory(nom="Contrat de ville de Vichy", slug="vichy"),
    )


def upload(page, path, *, diagnostic=None, nouveau=None):
    """Fill the upload form and ask for the preview."""
    page.get_by_role("link", name="Importer un fichier").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Importer un fichier")
    form = page.get_by_role("main").locator("form")
    if diagnostic:
        form.get_by_role("combobox", name=re.compile(r"^Diagnostic")).select_option(
            label=diagnostic
        )
    for label, value in (nouveau or {}).items():
        form.get_by_label(label).fill(value)
    form.get_by_label("Fichier").set_input_files(str(path))
    form.get_by_role("button", name="Voir l’aperçu").click()
    expect(page.locator("main .surtitre")).to_have_text("Aperçu : rien n’est encore enregistré")


def confirm(page):
    page.get_by_role("button", name="Confirmer l’import").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Import de «")


def go_to_imports(page):
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Imports"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Imports")


def test_an_administrator_imports_undoes_reimports_and_exports_the_seed(
    page, administratrice, tmp_path
):
    login(page, administratrice)
    go_to_imports(page)
    expect(page.get_by_text("Aucun import n’a encore été fait.")).to_be_visible()
    assert_accessible(page)

    # The upload form, its errors first.
    page.get_by_role("link", name="Importer un fichier").click()
    assert_accessible(page)
    page.get_by_role("button", name="Voir l’aperçu").click()
    expect(page.get_by_role("alert")).to_contain_text("Le formulaire contient des erreurs")
    expect(page.get_by_text("Fichier : Ce champ est obligatoire.")).to_be_visible()
    assert_accessible(page)
    go_to_imports(page)

    # Upload the seed into a new diagnostic: the preview writes nothing.
    upload(
        page,
        SEED,
        nouveau={
            "Titre du nouveau diagnostic": "Contrat de ville de Montluçon — diagnostic 2024",
            "Identifiant court du nouveau diagnostic": "montlucon-2024",
            "Territoire du nouveau diagnostic": "Montluçon Communauté",
        },
    )
    main = page.get_by_role("main")
    expect(main.locator(".chiffre-created")).to_contain_text("À créer")
    expect(
        main.get_by_text("Lignes décalées d’une colonne, remises en place : 13, 14.")
    ).to_be_visible()
    expect(main.locator("tr.ligne-decalee").first).to_be_visible()
    expect(main.get_by_role("row", name=re.compile(r"^Piliers 3 0 0$"))).to_be_visible()
    assert not Diagnostic.objects.exists()
    assert_accessible(page)
    screenshot(page, "import-apercu")

    # Confirm: the import's page, then the history.
    confirm(page)
    expect(page.locator(".message-success")).to_have_text(
        "Import de « diagnostic-montlucon.tsv » enregistré."
    )
    expect(main.get_by_role("heading", name="Piliers (3)")).to_be_visible()
    expect(main.get_by_role("link", name="Programme de Réussite Éducative")).to_be_visible()
    assert_accessible(page)
    diagnostic = Diagnostic.objects.get(slug="montlucon-2024")
    seed_structure = structure(diagnostic)
    assert len(seed_structure) == 3

    go_to_imports(page)
    ligne = page.get_by_role("row", name=re.compile("diagnostic-montlucon.tsv"))
    expect(ligne).to_contain_text("Sophie Durand")
    expect(ligne).to_contain_text("104 éléments créés")
    expect(ligne).to_contain_text("En place")
    assert_accessible(page)

    # Undo it.
    ligne.get_by_role("link", name="diagnostic-montlucon.tsv").click()
    page.get_by_role("link", name="Annuler cet import…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Annuler l’import de « diagnostic-montlucon.tsv »"
    )
    assert_accessible(page)
    page.get_by_role("button", name="Annuler l’import").click()
    expect(page.locator(".message-success")).to_have_text(
        "Import annulé : suppression de 3 piliers, 11 thèmes, 27 sous-thèmes, 45 difficultés"
        " et 18 indicateurs."
    )
    assert structure(diagnostic) == []
    assert Import.objects.get().annule_par == administratrice
    assert_accessible(page)

    # Import it again, into the diagnostic kept by the undo.
    go_to_imports(page)
    upload(page, SEED, diagnostic="Contrat de ville de Montluçon — diagnostic 2024")
    confirm(page)
    assert structure(diagnostic) == seed_structure

    # Export it to XLSX from the diagnostic's page.
    page.goto(diagnostic.get_absolute_url())
    with page.expect_download() as telechargement:
        page.get_by_role("link", name="Excel (.xlsx)").click()
    fichier = telechargement.value
    assert fichier.suggested_filename == "montlucon-2024-tableau-source.xlsx"
    export = tmp_path / fichier.suggested_filename
    fichier.save_as(export)

    # That XLSX imports into a new diagnostic identical to the first.
    go_to_imports(page)
    upload(
        page,
        export,
        nouveau={
            "Titre du nouveau diagnostic": "Copie du diagnostic de Montluçon",
            "Identifiant court du nouveau diagnostic": "copie",
            "Territoire du nouveau diagnostic": "Montluçon Communauté",
        },
    )
    expect(main.get_by_role("row", name=re.compile(r"^Indicateurs 18 — 0$"))).to_be_visible()
    confirm(page)
    assert structure(Diagnostic.objects.get(slug="copie")) == seed_structure

    go_to_imports(page)
    expect(page.get_by_role("row")).to_have_count(4)  # the header and three imports


def test_an_unavailable_upload_is_explained(page, administratrice, browser_errors):
    login(page, administratrice)

    page.goto(reverse("diagnostics:import_apercu", args=["jeton-inconnu"]))
    # The page answers 404, which Chromium logs as a console error: expected here.
    browser_errors[:] = [error for error in browser_errors if "status of 404" not in error]

    expect(page.get_by_role("heading", level=1)).to_have_text("Dépôt indisponible")
    expect(page.get_by_text("Ce dépôt de fichier n'existe pas ou plus")).to_be_visible()
    assert_accessible(page)
