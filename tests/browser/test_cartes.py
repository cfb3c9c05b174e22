"""The maps drawn by the server, in a real browser: the contract's page with the map of
Montluçon's three quartiers and an indicator's page with its map by quartier (a value
hidden by the secret statistique), for a partner and an Administrateur, at a desktop
width and a phone's. axe-core finds nothing, the labels do not overlap, and a quartier
of the map is reached with the keyboard and opens its fiche."""

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from comptes.roles import Role
from diagnostics.models import Pilier
from tests.browser import assert_accessible, assert_fits_viewport, login, screenshot
from tests.browser.conftest import BIEN_ASSIS, FONTBOUILLANT, RIVE_GAUCHE
from tests.factories import UserFactory
from tests.indicateurs_data import mesure, quantitatif

pytestmark = pytest.mark.browser

ROLES = {"partenaire": Role.PARTENAIRE, "administrateur": Role.ADMINISTRATEUR}
# Each role at each width, over the two pages: a partner and an Administrateur each see
# each page once, each page is seen once at each width.
CASES = [("partenaire", 375), ("administrateur", 1280)]
CROSSED = [("partenaire", 1280), ("administrateur", 375)]

# The boxes of the labels written on the map, as the browser lays them out.
LABEL_BOXES = """() => [...document.querySelectorAll('svg.carte .carte-etiquettes text')]
    .map(t => { const r = t.getBoundingClientRect();
                return [r.left, r.top, r.right, r.bottom, t.textContent]; })"""


def overlaps(a, b):
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


def assert_labels_apart(page):
    boxes = page.evaluate(LABEL_BOXES)
    assert boxes, "la carte n'a pas d'étiquette"
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not overlaps(a, b), f"étiquettes superposées : {a[4]} / {b[4]}"


def tab_to_the_map(page, limit=80):
    """Press Tab until a quartier of the map has the focus; its code."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        code = page.evaluate(
            "() => document.activeElement.closest('svg.carte') &&"
            " document.activeElement.getAttribute('data-code')"
        )
        if code:
            return code
    pytest.fail("aucun quartier de la carte n'est atteint au clavier")


@pytest.mark.parametrize(("role", "largeur"), CASES)
def test_the_contract_page_shows_the_map_of_its_quartiers(page, montlucon, role, largeur):
    user = UserFactory(role=ROLES[role], contrat=montlucon.contrat)
    page.set_viewport_size({"width": largeur, "height": 900})
    login(page, user)

    page.goto(reverse("diagnostics:contrat", args=[montlucon.contrat.slug]))

    section = page.locator("section.quartiers-contrat")
    expect(section.get_by_role("heading", level=2)).to_have_text("Quartiers prioritaires")
    carte = section.locator("svg.carte")
    expect(carte).to_be_visible()
    expect(carte.locator(".carte-zones a")).to_have_count(3)
    expect(section.locator(".carte-liste li")).to_have_count(3)
    expect(section).to_contain_text("Tracés de démonstration")
    assert_labels_apart(page)
    assert_fits_viewport(page)
    screenshot(page, f"carte-contrat-{largeur}-{role}")
    assert_accessible(page)

    # The keyboard reaches a quartier of the map, shown focused, and opens its fiche.
    code = tab_to_the_map(page)
    assert code in (RIVE_GAUCHE, FONTBOUILLANT, BIEN_ASSIS)
    largeur_trait = page.evaluate(
        "() => getComputedStyle(document.activeElement.querySelector('path')).strokeWidth"
    )
    assert float(largeur_trait.removesuffix("px")) >= 5
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(
        reverse("fiche_quartier", kwargs={"slug": montlucon.slug, "code": code})
    )


@pytest.mark.parametrize(("role", "largeur"), CROSSED)
def test_an_indicator_page_shows_its_map_by_quartier(page, montlucon, role, largeur):
    pilier = Pilier.objects.filter(diagnostic=montlucon).order_by("numero").first()
    indicateur = quantitatif(
        montlucon,
        pilier=pilier,
        libelle="Jeunes accompagnés par la mission locale",
        unite="jeunes",
        compte_des_personnes=True,
    )
    quartiers = {q.code: q for q in montlucon.quartiers.all()}
    mesure(indicateur, 2024, Decimal(60))
    for code, valeur in ((RIVE_GAUCHE, 3), (FONTBOUILLANT, 20), (BIEN_ASSIS, 37)):
        mesure(indicateur, 2024, Decimal(valeur), quartiers[code])
    user = UserFactory(role=ROLES[role], contrat=montlucon.contrat)
    page.set_viewport_size({"width": largeur, "height": 900})
    login(page, user)

    page.goto(reverse("indicateurs:detail", args=[montlucon.slug, indicateur.pk]))

    section = page.locator("section").filter(
        has=page.get_by_role("heading", level=2, name="Carte par quartier")
    )
    expect(section.locator("svg.carte")).to_be_visible()
    expect(section.locator(".carte-legende li").first).to_be_visible()
    rive = section.locator(".carte-liste li").filter(has_text="Rive Gauche")
    if role == "partenaire":
        expect(rive).to_contain_text("valeur non diffusée (secret statistique)")
        expect(section.locator(".carte-legende")).to_contain_text("Valeur non diffusée")
        expect(section).not_to_contain_text("3\u00a0jeunes")
    else:
        expect(rive).to_contain_text("3\u00a0jeunes")
    assert_labels_apart(page)
    assert_fits_viewport(page)
    screenshot(page, f"carte-indicateur-{largeur}-{role}")
    assert_accessible(page)
