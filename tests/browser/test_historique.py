"""The "Dernières modifications" page at a desktop width (1280 px) and a phone's (375 px):
one line per action (the seed's import, a move, a value entered, a deletion), filtered
by nature from its form; nothing wider than the window, no word cut in a cell, and
axe-core finds nothing."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from diagnostics import editing
from diagnostics.history.actions import action
from diagnostics.models import Difficulte, SousTheme, Theme
from indicateurs import entry
from indicateurs.models import Mesure
from tests.browser import (
    assert_accessible,
    assert_fits_viewport,
    assert_no_word_broken_in_cells,
    login,
    screenshot,
)
from tests.indicateurs_data import qpv, quantitatif

pytestmark = pytest.mark.browser


@pytest.fixture
def changes(montlucon, marie):
    """Montluçon's seed import, then Marie's move, value entry and deletion."""
    quartiers = qpv(montlucon)
    sous_theme = next(
        st
        for st in SousTheme.objects.filter(theme__pilier__diagnostic=montlucon)
        if st.difficultes.count() >= 3
    )
    last = sous_theme.difficultes.order_by("position").last()
    with action():
        editing.move_up(last, marie)
    indicateur = quantitatif(montlucon, libelle="Taux de chômage des jeunes de 16 à 25 ans")
    with action():
        entry.save_mesures(
            [
                Mesure(indicateur=indicateur, annee=2024, quartier=quartier, valeur=12)
                for quartier in quartiers.values()
            ],
            marie,
        )
    theme = Theme.objects.filter(pilier__diagnostic=montlucon).exclude(pk=sous_theme.theme_id)
    with action():
        editing.delete(theme.first(), marie)
    return last


@pytest.mark.parametrize("largeur", [1280, 375])
def test_the_latest_changes_say_what_happened_and_fit_the_screen(page, changes, marie, largeur):
    page.set_viewport_size({"width": largeur, "height": 900})
    login(page, marie)

    page.goto(reverse("diagnostics:modifications", args=["montlucon"]))

    expect(page.get_by_role("heading", level=1)).to_have_text("Dernières modifications")
    rows = page.locator("table.tableau-modifications tbody tr")
    natures = rows.locator(".nature-action")
    # The indicator's creation (a thème, a sous-thème, the indicator) comes from factories.
    expect(natures.filter(has_text="Déplacement")).to_have_count(1)
    expect(natures.filter(has_text="Import")).to_have_count(1)
    expect(natures.filter(has_text="Suppression")).to_have_count(1)
    expect(rows.filter(has_text="Valeur d'indicateur")).to_have_count(1)
    expect(rows.filter(has_text="Déplacement")).to_contain_text(changes.libelle[:30])
    expect(page.get_by_text("Ordre modifié")).to_have_count(0)
    assert Difficulte.history.filter(history_change_reason="Ordre modifié").count() == 1
    assert_fits_viewport(page)
    # Even inside its scrolling container, the table fits: its links are never off-screen.
    right = page.evaluate(
        "document.querySelector('table.tableau-modifications').getBoundingClientRect().right"
    )
    assert right <= largeur
    assert_no_word_broken_in_cells(page)
    assert_accessible(page)
    screenshot(page, f"dernieres-modifications-{largeur}")

    # The nature filter, from the keyboard.
    page.get_by_label("Nature").select_option(label="Déplacement")
    page.get_by_role("button", name="Filtrer").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"nature=deplacement"))
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Déplacement vers le haut")
    assert_fits_viewport(page)
    assert_accessible(page)
