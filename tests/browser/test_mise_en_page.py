"""The pages of the indicators at a desktop width (1280 px) and a phone's (375 px), with the
demonstration values: no two cells of a row of the tableau de bord overlap, no page scrolls
sideways (wide tables and the chart scroll in their own container), the chart's labels
render at 12 px at least, and axe-core finds nothing."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from comptes.roles import Role
from indicateurs.models import Indicateur
from tests.browser import assert_accessible, login, screenshot
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

LARGEURS = [1280, 375]

# Pairs of cells of the same row whose boxes, or whose contents (text that overflows its
# cell is drawn over the next one), intersect with a non-zero area.
OVERLAPS = """() => {
    const box = element => element.getBoundingClientRect();
    // The union of the boxes of the visible text of a cell (text for screen readers only,
    // clipped to a pixel, left out).
    const content = element => {
        const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
        let union = null;
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (!node.textContent.trim() || node.parentElement.closest('.visuellement-cache')) {
                continue;
            }
            const range = document.createRange();
            range.selectNodeContents(node);
            const r = range.getBoundingClientRect();
            union = union === null ? {left: r.left, right: r.right, top: r.top, bottom: r.bottom}
                : {left: Math.min(union.left, r.left), right: Math.max(union.right, r.right),
                   top: Math.min(union.top, r.top), bottom: Math.max(union.bottom, r.bottom)};
        }
        return union || box(element);
    };
    const area = (a, b) => Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left))
        * Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
    const found = [];
    for (const row of document.querySelectorAll('table tr')) {
        const cells = [...row.children];
        cells.forEach((a, i) => cells.slice(i + 1).forEach(b => {
            for (const [of_a, of_b] of [[box(a), box(b)], [content(a), content(b)],
                                        [content(a), box(b)], [box(a), content(b)]]) {
                if (area(of_a, of_b) > 0.5) {
                    found.push(a.textContent.trim().slice(0, 40) + ' / '
                               + b.textContent.trim().slice(0, 40));
                    return;
                }
            }
        }));
    }
    return found;
}"""

PAGE_WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"

# The rendered size of each label of the chart: its font size times the SVG's scale.
CHART_FONT_SIZES = """() => [...document.querySelectorAll('svg.graphique text')].map(text =>
    parseFloat(getComputedStyle(text).fontSize) * text.ownerSVGElement.getScreenCTM().a)"""

# The scrolling containers of the page: each one focusable and named.
SCROLL_REGIONS = """() => [...document.querySelectorAll('main *')]
    .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
    .map(e => ({tabindex: e.getAttribute('tabindex'), role: e.getAttribute('role'),
                named: Boolean(e.getAttribute('aria-label') || e.getAttribute('aria-labelledby')),
                scrolls: e.scrollWidth > e.clientWidth}))"""


@pytest.fixture
def demo(montlucon, settings):
    """Montluçon with the demonstration values (`demo_mesures`, as `make run` loads them):
    long units, thousands, a written constat, reference and target."""
    settings.DEBUG = True  # the command refuses to run otherwise
    call_command("demo_mesures", "--diagnostic", montlucon.slug, stdout=StringIO())
    settings.DEBUG = False
    return montlucon


@pytest.fixture(params=["partenaire", "equipe-ville"])
def personne(request, partenaire, contrat):
    """(name, user): a partner, who sees small counts masked, or the Équipe ville (both of
    Montluçon's contract)."""
    if request.param == "partenaire":
        return request.param, partenaire
    return request.param, UserFactory(role=Role.EQUIPE_VILLE, contrat=contrat)


def indicateur_avec_valeurs(diagnostic):
    return (
        Indicateur.objects.du_diagnostic(diagnostic)
        .filter(mesures__fictive=True, mesures__valeur__isnull=False)
        .order_by("pk")
        .first()
    )


def assert_no_sideways_scroll(page):
    scroll_width, inner_width = page.evaluate(PAGE_WIDTH)
    assert scroll_width <= inner_width, f"{page.url} : {scroll_width} px pour {inner_width} px"


def assert_scroll_regions_are_reachable(page):
    for region in page.evaluate(SCROLL_REGIONS):
        if region["scrolls"]:
            assert region["tabindex"] == "0" and region["role"] == "region" and region["named"]


@pytest.mark.parametrize("largeur", LARGEURS)
def test_the_tableau_de_bord_cells_never_overlap_and_the_page_never_scrolls_sideways(
    page, demo, personne, largeur
):
    nom, user = personne
    page.set_viewport_size({"width": largeur, "height": 900})
    login(page, user)

    page.goto(reverse("indicateurs:tableau_de_bord", args=[demo.slug]))

    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord des indicateurs")
    expect(page.get_by_role("main")).to_contain_text("Donnée fictive")
    assert page.locator("table.tableau-bord tbody tr").count() > 10
    assert page.evaluate(OVERLAPS) == []
    assert_no_sideways_scroll(page)
    assert_scroll_regions_are_reachable(page)
    screenshot(page, f"tableau-de-bord-{largeur}-{nom}")
    assert_accessible(page)


@pytest.mark.parametrize("largeur", LARGEURS)
def test_the_page_of_an_indicator_fits_and_its_chart_stays_readable(page, demo, personne, largeur):
    indicateur = indicateur_avec_valeurs(demo)
    nom, user = personne
    page.set_viewport_size({"width": largeur, "height": 900})
    login(page, user)

    page.goto(reverse("indicateurs:detail", args=[demo.slug, indicateur.pk]))

    titre = page.locator("figure.graphique-conteneur figcaption")
    expect(titre).to_contain_text(indicateur.libelle)
    expect(titre).to_contain_text("Ensemble du territoire")
    # The chart is named by its visible title.
    chart = page.get_by_role("img", name=titre.inner_text(), exact=True)
    expect(chart).to_be_visible()
    sizes = page.evaluate(CHART_FONT_SIZES)
    assert sizes and min(sizes) >= 12, sizes
    assert page.evaluate(OVERLAPS) == []
    assert_no_sideways_scroll(page)
    assert_scroll_regions_are_reachable(page)
    screenshot(page, f"indicateur-{largeur}-{nom}")
    assert_accessible(page)


@pytest.mark.parametrize("largeur", LARGEURS)
def test_the_list_of_indicators_fits_and_leads_to_each_page(page, demo, partenaire, largeur):
    indicateur = indicateur_avec_valeurs(demo)
    page.set_viewport_size({"width": largeur, "height": 900})
    login(page, partenaire)

    page.goto(f"{reverse('indicateurs:liste')}?diagnostic={demo.slug}")

    assert_no_sideways_scroll(page)
    screenshot(page, f"indicateurs-{largeur}")
    assert_accessible(page)
    page.get_by_role("link", name="Tableau de bord des indicateurs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord des indicateurs")
    page.go_back()
    page.get_by_role("link", name=indicateur.libelle, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(indicateur.libelle)


def test_a_partner_keeps_or_leaves_out_the_whole_territory(page, montlucon, partenaire):
    login(page, partenaire)
    page.goto(f"{reverse('diagnostics:difficultes')}?diagnostic={montlucon.slug}")
    filtres = page.get_by_role("form", name="Filtrer la liste")
    filtres.get_by_label("Quartier prioritaire").select_option(label="Rive Gauche (QN00304M)")
    expect(filtres.get_by_label("Périmètre")).to_have_value("quartier-et-territoire")
    filtres.get_by_role("button", name="Filtrer").click()
    autour = int(page.get_by_role("heading", level=2, name="difficultés").inner_text().split()[0])

    filtres.get_by_label("Périmètre").select_option(label="Ce quartier seulement")
    filtres.get_by_role("button", name="Filtrer").click()

    expect(page).to_have_url(re.compile(r"[?&]perimetre=quartier-seulement"))
    expect(page.get_by_role("heading", level=2, name="2 difficultés", exact=True)).to_be_visible()
    assert autour > 2  # the items that name no quartier concern Rive Gauche too
    assert_accessible(page)
