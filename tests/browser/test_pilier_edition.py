"""Pilier 1 of Montluçon as the Équipe ville, at a desktop width (1280 px) and a phone's
(375 px): the items read first, as a partner reads them, each with one "Actions" menu that
opens with the keyboard and works without JavaScript; each source cell is linked once; the
page is much lighter and shorter than it was.

Measured on the seed before the change (three lines of controls under every item, a
source link under every bullet): 174 744 bytes of HTML, 12 414 px tall at 1280 px and
17 627 px at 375 px, 49 source links for 49 items. After, on the same 49 items: 114 007
bytes, 8 439 px and 14 501 px, 18 source links. The bounds below leave about 10 % of room
for the rest of the site (header, banner) to grow, and fail by far with the old controls.
"""

from itertools import groupby

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from diagnostics import kinds
from diagnostics.models import SousTheme
from tests.browser import assert_accessible, assert_fits_viewport, login, screenshot
from tests.browser.conftest import TIMEOUT_MS

pytestmark = pytest.mark.browser

LARGEURS = [1280, 375]
BEFORE_BYTES = 174_744
MAX_BYTES = 125_000  # 72 % of before
MAX_HEIGHT = {1280: 9_300, 375: 16_000}  # before: 12 414 and 17 627 px

PAGE_HEIGHT = "() => document.documentElement.scrollHeight"


def pilier_1(diagnostic):
    return reverse("diagnostics:pilier", args=[diagnostic.slug, 1])


def source_links(pilier):
    """The source links the page should show, counted from the database on its own: one
    per run of consecutive items of one kind and one level made from the same cell."""
    links = []
    for kind in kinds.items():
        items = kind.model.objects.du_pilier(pilier).select_related("source")
        by_level = {}
        for item in items.order_by("position", "id"):
            by_level.setdefault((item.sous_theme_id, item.theme_id), []).append(item.source)
        for sources in by_level.values():
            for source, run in groupby(sources):
                if source is not None:
                    n = len(list(run))
                    quoi = f" des {n} {kind.nom.pluriel} ci-dessus" if n > 1 else ""
                    links.append(f"Source{quoi} : ligne {source.ligne}")
    return sorted(links)


@pytest.mark.parametrize("largeur", LARGEURS)
def test_the_equipe_ville_reads_pilier_1_first_with_one_menu_per_item(
    page, montlucon, marie, largeur
):
    pilier = montlucon.piliers.get(numero=1)
    page.set_viewport_size({"width": largeur, "height": 900})
    login(page, marie)

    response = page.goto(pilier_1(montlucon))

    # Much lighter and shorter than before.
    weight = len(response.body())
    height = page.evaluate(PAGE_HEIGHT)
    print(f"\nPilier 1, Équipe ville, {largeur} px : {weight} octets, {height} px de haut")
    assert weight < MAX_BYTES < BEFORE_BYTES
    assert height < MAX_HEIGHT[largeur]

    # Every item: its text, then one folded "Actions" menu, named after the item.
    items = page.locator("li.element")
    count = items.count()
    assert count == sum(kind.model.objects.du_pilier(pilier).count() for kind in kinds.items())
    expect(page.locator("li.element > details.menu-actions")).to_have_count(count)
    expect(page.locator("details[open]")).to_have_count(0)
    expect(page.get_by_role("button", name="Descendre")).to_have_count(0)  # all folded
    first = items.first
    libelle = first.locator(".element-libelle").inner_text()
    expect(first.locator("summary")).to_contain_text(f"Actions pour « {libelle[:40]}")

    # One link per run of items of a source cell, far fewer than the items that have one.
    links = page.locator("a.lien-source")
    assert sorted(links.all_inner_texts()) == source_links(pilier)
    with_source = sum(
        kind.model.objects.du_pilier(pilier).filter(source__isnull=False).count()
        for kind in kinds.items()
    )
    assert links.count() < with_source / 2

    assert_fits_viewport(page)
    screenshot(page, f"pilier-equipe-ville-{largeur}")
    assert_accessible(page)

    # Opened with the keyboard, its actions fit the window and pass axe-core; Escape
    # closes it (js/menus_actions.js) and gives the focus back.
    summary = first.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(first.locator("details")).to_have_attribute("open", "")
    for name in ("Modifier", "Déplacer", "Scinder en plusieurs", "Fusionner avec d’autres"):
        expect(first.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(first.get_by_role("link", name="Historique", exact=True)).to_be_visible()
    expect(first.get_by_role("link", name="Supprimer", exact=True)).to_be_visible()
    expect(first.get_by_role("button", name="Descendre")).to_be_visible()
    assert_fits_viewport(page)
    assert_accessible(page)
    page.keyboard.press("Tab")
    expect(first.get_by_role("link", name="Modifier")).to_be_focused()
    page.keyboard.press("Escape")
    expect(first.locator("details")).not_to_have_attribute("open", "")
    expect(summary).to_be_focused()

    # A thème's menu holds its actions, the additions among them.
    theme = page.locator("section.theme").first
    theme.locator("summary", has_text="Actions du thème").click()
    for name in ("Renommer le thème", "Ajouter un sous-thème", "Historique du thème"):
        expect(theme.get_by_role("link", name=name)).to_be_visible()
    assert_fits_viewport(page)


@pytest.mark.parametrize("largeur", LARGEURS)
def test_moving_an_item_down_with_the_keyboard_without_javascript(
    browser, live_server, montlucon, marie, largeur
):
    sports = SousTheme.objects.get(theme__pilier__diagnostic=montlucon, libelle="Sports et loisirs")
    first, second, *_ = sports.difficultes.order_by("position", "pk")
    context = browser.new_context(
        base_url=live_server.url,
        locale="fr-FR",
        java_script_enabled=False,
        viewport={"width": largeur, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        login(page, marie)
        page.goto(pilier_1(montlucon))
        item = page.locator(f"#difficulte-{first.pk}")

        item.locator("summary").focus()
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")  # Modifier
        page.keyboard.press("Tab")  # Descendre: the first item cannot go up
        descendre = item.get_by_role("button", name="Descendre")
        expect(descendre).to_be_focused()
        assert_fits_viewport(page)
        with page.expect_navigation():
            page.keyboard.press("Enter")

        expect(page.get_by_role("status")).to_contain_text("a été descendue.")
        assert page.url.endswith(f"{pilier_1(montlucon)}#difficulte-{first.pk}")
        assert list(sports.difficultes.order_by("position", "pk"))[:2] == [second, first]
        moved = page.locator(f"#sous-theme-{sports.pk} li.element")
        expect(moved.nth(1)).to_have_id(f"difficulte-{first.pk}")
        # Now it can go up again, from the same menu.
        item.locator("summary").focus()
        page.keyboard.press("Enter")
        expect(item.get_by_role("button", name="Monter")).to_be_visible()
    finally:
        context.close()
