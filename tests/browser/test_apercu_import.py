"""The preview of an import at a desktop width (1280 px) and a phone's (375 px): its summary
and confirm button in the first screen, its details folded by level and unfolded with the
keyboard, no word cut in a table, nothing wider than the window, axe-core finds nothing;
confirming from the top button imports what the summary announced, the boxes ticked below
included; a refused file says it is refused, and why."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from comptes.roles import Role
from diagnostics import editing
from diagnostics.models import Diagnostic, Difficulte, Pilier, SousTheme, Theme
from indicateurs.models import Indicateur
from tests.browser import (
    assert_accessible,
    assert_fits_viewport,
    assert_no_word_broken_in_cells,
    login,
    screenshot,
)
from tests.browser.test_imports import upload
from tests.conftest import SEED
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

# A desktop screen, and a phone's (375 × 812).
ECRANS = {1280: 800, 375: 812}
LEVELS = (Pilier, Theme, SousTheme, Difficulte, Indicateur)

# The scrolling containers of the main content: each one focusable, a region, and named.
SCROLL_REGIONS = """() => [...document.querySelectorAll('main *')]
    .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
    .filter(e => e.scrollWidth > e.clientWidth)
    .map(e => ({tabindex: e.getAttribute('tabindex'), role: e.getAttribute('role'),
                named: Boolean(e.getAttribute('aria-label')
                               || e.getAttribute('aria-labelledby'))}))"""


@pytest.fixture
def administratrice(contrat):
    return UserFactory(
        username="sophie.durand",
        first_name="Sophie",
        last_name="Durand",
        role=Role.ADMINISTRATEUR,
        contrat=contrat,
    )


def go_to_imports(page):
    page.goto(reverse("diagnostics:imports"))


def shown(page, key):
    """The number of a figure of the summary."""
    return int(page.locator(f"main .chiffre-{key} .chiffre-nombre").inner_text())


def items_of(diagnostic):
    return sum(model.objects.filter(diagnostic=diagnostic).count() for model in LEVELS)


def check_layout(page, name):
    """Nothing wider than the window, no word cut in a table, every scrolling table a
    named region reachable with the keyboard, axe-core: with every level unfolded."""
    folded = page.locator("main details:not([open]) > summary")
    for _ in range(folded.count()):
        folded.first.click()
    expect(folded).to_have_count(0)
    assert_fits_viewport(page)
    assert_no_word_broken_in_cells(page)
    for region in page.evaluate(SCROLL_REGIONS):
        assert region == {"tabindex": "0", "role": "region", "named": True}
    assert_accessible(page)
    screenshot(page, name)


def confirm_button_in_first_screen(page, height):
    page.evaluate("window.scrollTo(0, 0)")
    box = page.get_by_role("button", name="Confirmer l’import").first.bounding_box()
    assert box is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, box


@pytest.mark.parametrize("largeur", ECRANS)
def test_the_preview_of_the_seed_fits_a_screen_and_confirms_from_the_top(
    page, administratrice, largeur
):
    hauteur = ECRANS[largeur]
    page.set_viewport_size({"width": largeur, "height": hauteur})
    login(page, administratrice)
    go_to_imports(page)
    upload(
        page,
        SEED,
        nouveau={
            "Titre du nouveau diagnostic": "Copie du diagnostic de Montluçon",
            "Identifiant court du nouveau diagnostic": "copie",
            "Territoire du nouveau diagnostic": "Montluçon Communauté",
        },
    )
    main = page.get_by_role("main")

    # The summary, then the confirm button, both in the first screen; another at the end.
    confirm_button_in_first_screen(page, hauteur)
    expect(main.get_by_role("button", name="Confirmer l’import")).to_have_count(2)
    created = shown(page, "created")
    assert created > 0
    assert shown(page, "errors") == 0
    assert shown(page, "warnings") == main.locator("#avertissements-titre + ul > li").count() > 0
    expect(main.locator("#avertissements-titre")).to_be_visible()  # never folded
    page_height = page.evaluate("document.documentElement.scrollHeight")
    assert page_height < 8 * hauteur, page_height

    # Each level folded; its summary unfolds it with the keyboard (Enter, then Space).
    difficultes = main.locator("details#niveau-difficulte")
    expect(difficultes).not_to_have_attribute("open", "")
    expect(difficultes.get_by_role("table")).to_be_hidden()
    difficultes.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(difficultes).to_have_attribute("open", "")
    expect(difficultes.get_by_role("table")).to_be_visible()
    page.keyboard.press("Space")
    expect(difficultes).not_to_have_attribute("open", "")
    indicateurs = main.locator("details#niveau-indicateur")
    indicateurs.locator("summary").focus()
    page.keyboard.press("Space")
    expect(indicateurs.get_by_role("table")).to_be_visible()

    check_layout(page, f"import-apercu-{largeur}")

    # Confirming from the top button imports what the summary announced.
    page.evaluate("window.scrollTo(0, 0)")
    page.get_by_role("button", name="Confirmer l’import").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Import de «")
    assert items_of(Diagnostic.objects.get(slug="copie")) == created
    assert_fits_viewport(page)
    assert_accessible(page)

    # The history of the imports: no header, date or count cut in the middle.
    go_to_imports(page)
    expect(main.get_by_role("row")).to_have_count(3)  # the header, the seed's, this one
    check_layout(page, f"imports-liste-{largeur}")


@pytest.mark.parametrize("largeur", ECRANS)
def test_boxes_ticked_below_go_with_the_top_confirm_button(
    page, administratrice, montlucon, paul, largeur
):
    hauteur = ECRANS[largeur]
    theme = Theme.objects.get(diagnostic=montlucon, libelle="Santé")
    added = editing.create(Difficulte(theme=theme, libelle="Saisie à la main"), paul)
    before = items_of(montlucon)
    page.set_viewport_size({"width": largeur, "height": hauteur})
    login(page, administratrice)
    go_to_imports(page)
    upload(page, SEED, diagnostic=montlucon.titre)
    main = page.get_by_role("main")

    assert shown(page, "created") == 0
    assert shown(page, "removed") == 0
    expect(main.locator(".chiffre-removed")).to_contain_text("absent du fichier")
    check_layout(page, f"import-apercu-rapprochement-{largeur}")

    main.get_by_role("checkbox", name=re.compile("Retirer « Saisie à la main »")).check()
    page.evaluate("window.scrollTo(0, 0)")
    page.get_by_role("button", name="Confirmer l’import").first.click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Import de «")
    assert not Difficulte.objects.filter(pk=added.pk).exists()
    assert items_of(montlucon) == before - 1


@pytest.mark.parametrize("largeur", ECRANS)
def test_a_refused_file_says_it_is_refused_and_why(page, administratrice, largeur, tmp_path):
    fichier = tmp_path / "erreurs.tsv"
    fichier.write_text(
        "Pilier\tThème\tSous-thème\tDifficultés prégnantes\tIndicateur\n"
        "\tSanté\tSoins\t- Délais\t\n",
        encoding="utf-8",
    )
    page.set_viewport_size({"width": largeur, "height": ECRANS[largeur]})
    login(page, administratrice)
    go_to_imports(page)
    upload(
        page,
        fichier,
        nouveau={
            "Titre du nouveau diagnostic": "Essai",
            "Identifiant court du nouveau diagnostic": "essai",
            "Territoire du nouveau diagnostic": "Montluçon Communauté",
        },
    )
    main = page.get_by_role("main")

    expect(page.get_by_role("heading", level=1)).to_have_text("Fichier « erreurs.tsv » refusé")
    expect(main.get_by_role("alert")).to_contain_text("rien n’a été enregistré")
    expect(
        main.get_by_role("heading", name=re.compile("Pourquoi le fichier est refusé"))
    ).to_be_visible()
    expect(main.get_by_text("aucun pilier n'est indiqué")).to_be_visible()
    assert "annulé" not in main.inner_text()
    expect(main.get_by_role("button", name="Confirmer l’import")).to_have_count(0)
    check_layout(page, f"import-refuse-{largeur}")


@pytest.mark.parametrize("largeur", ECRANS)
def test_the_preview_of_values_gets_the_same_summary(
    page, administratrice, montlucon, largeur, tmp_path
):
    hauteur = ECRANS[largeur]
    indicateur = Indicateur.objects.filter(sous_theme__diagnostic=montlucon).first()
    fichier = tmp_path / "valeurs.csv"
    fichier.write_text(
        "Indicateur;Année;Valeur\n"
        + "".join(f"{indicateur.libelle};{annee};{annee - 2000}\n" for annee in (2021, 2022)),
        encoding="utf-8",
    )
    page.set_viewport_size({"width": largeur, "height": hauteur})
    login(page, administratrice)
    page.goto(reverse("diagnostics:import_nouveau"))
    form = page.get_by_role("main").locator("form")
    form.get_by_role("radio", name="Valeurs d'indicateurs").check()
    form.get_by_role("combobox", name=re.compile(r"^Diagnostic")).select_option(
        label=montlucon.titre
    )
    form.get_by_label("Fichier").set_input_files(str(fichier))
    form.get_by_role("button", name="Voir l’aperçu").click()
    expect(page.locator("main .surtitre")).to_have_text("Aperçu : rien n’est encore enregistré")

    confirm_button_in_first_screen(page, hauteur)
    assert (shown(page, "created"), shown(page, "changed"), shown(page, "unchanged")) == (2, 0, 0)
    check_layout(page, f"import-apercu-valeurs-{largeur}")

    page.get_by_role("button", name="Confirmer l’import").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Import de «")
    assert indicateur.mesures.count() == 2
