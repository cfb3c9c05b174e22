"""A partner reads a pilier in a real browser: signing in, the keyboard, printing."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser import login, screenshot

pytestmark = pytest.mark.browser

THEMES_DU_PILIER_1 = [
    "Éducation",
    "Parentalité et droits sociaux",
    "Culture et expression artistique",
    "Santé",
    "Jeunesse",
    "Lien social, citoyenneté et Participation des habitants",
    "Prévention et lutte Contre les discriminations Liées à l'origine et à l'adresse",
]

FOCUS_INDICATOR = """() => {
    const style = getComputedStyle(document.activeElement);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    return outline || style.boxShadow !== 'none';
}"""


def pilier_1(diagnostic):
    return diagnostic.piliers.get(numero=1).get_absolute_url()


def test_a_partner_signs_in_and_reads_the_themes_of_pilier_1(page, montlucon, partenaire):
    login(page, partenaire)

    header = page.get_by_role("banner")
    expect(header).to_contain_text("Claire Martin")
    expect(header).to_contain_text("Partenaire")
    page.get_by_role("link", name="Pilier 1 : COHESION SOCIALE").first.click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Pilier 1 : COHESION SOCIALE")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", level=2)).to_have_text(["Sommaire", *THEMES_DU_PILIER_1])
    jeunesse = main.get_by_role("region", name="Jeunesse", exact=True)
    au_niveau_du_theme = jeunesse.get_by_role("region", name="Au niveau du thème")
    expect(au_niveau_du_theme.locator(".element-libelle")).to_have_text(
        [
            re.compile(r"^Déficit des besoins en terme de prévention pour les pré-ados 11-14 ans"),
            re.compile(r"^Présence de jeunes adultes \(qui travaillent\)"),
        ]
    )
    expect(jeunesse.get_by_role("heading", level=3)).to_have_text(
        [
            "Au niveau du thème",
            "Soutenir l'initiative associative",
            "Actions de médiation",
            "Accès à la citoyenneté",
            "Participation des habitants",
        ]
    )


def test_the_keyboard_alone_skips_to_the_content_and_reaches_the_search(
    page, montlucon, partenaire
):
    login(page, partenaire)
    page.goto(pilier_1(montlucon))

    page.keyboard.press("Tab")
    lien_evitement = page.get_by_role("link", name="Aller au contenu")
    expect(lien_evitement).to_be_focused()
    expect(lien_evitement).to_be_in_viewport()
    assert page.evaluate(FOCUS_INDICATOR), "Le lien d'évitement n'a pas de focus visible."
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('main') !== null"), (
        "Après le lien d'évitement, la tabulation ne continue pas dans le contenu."
    )
    assert page.evaluate(FOCUS_INDICATOR), "L'élément qui a le focus ne le montre pas."

    page.goto(pilier_1(montlucon))
    recherche = page.get_by_role("search").get_by_role("searchbox")
    for _ in range(10):
        page.keyboard.press("Tab")
        if recherche.evaluate("field => field === document.activeElement"):
            break
    expect(recherche).to_be_focused()
    assert page.evaluate(FOCUS_INDICATOR), "Le champ de recherche n'a pas de focus visible."


def test_printing_a_pilier_hides_the_navigation_and_starts_each_theme_on_a_new_page(
    page, montlucon, partenaire
):
    login(page, partenaire)
    page.goto(pilier_1(montlucon))

    page.emulate_media(media="print")

    expect(page.get_by_role("heading", level=1)).to_be_visible()
    for hidden in [
        page.get_by_role("banner"),
        page.get_by_role("navigation", name="Navigation principale"),
        page.get_by_role("search"),
        page.get_by_role("link", name="Aller au contenu"),
        page.get_by_role("navigation", name="Fil d’Ariane"),
        page.get_by_role("contentinfo"),
    ]:
        expect(hidden).to_be_hidden()
    breaks = page.locator("main section.theme").evaluate_all(
        "sections => sections.map(s => getComputedStyle(s).breakBefore)"
    )
    assert breaks == ["auto"] + ["page"] * (len(THEMES_DU_PILIER_1) - 1)
    pdf = page.pdf(format="A4")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= len(THEMES_DU_PILIER_1)
    screenshot(page, "pilier-impression")


@pytest.mark.parametrize("largeur", [320, 640], ids=["telephone", "zoom-200"])
def test_a_pilier_reads_without_horizontal_scrolling_on_a_phone_or_at_200_percent_zoom(
    page, montlucon, partenaire, largeur
):
    """WCAG 1.4.10 (reflow): 320 CSS pixels wide is a phone, or a 640-pixel window at 200 %."""
    login(page, partenaire)
    page.set_viewport_size({"width": largeur, "height": 800})

    page.goto(pilier_1(montlucon))

    expect(page.get_by_role("heading", level=1)).to_be_in_viewport()
    largeur_du_document = page.evaluate("() => document.documentElement.scrollWidth")
    assert largeur_du_document <= largeur, "La page défile horizontalement."
    screenshot(page, f"pilier-{largeur}px")
