"""The editions of a contract in a real browser: every new page type passes axe-core (WCAG
2.1 A and AA) at a desktop width (1280 px) and, for the pages that hold tables, a phone's
(375 px); an Administrateur freezes the 2024 edition, starts and publishes the 2027
revision; a partner reads what changed, with a cue other than colour for the added and
removed words, on screen and in print."""

import datetime
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from comptes.roles import Role
from diagnostics import editing
from diagnostics.editions import states
from diagnostics.editions.copy import start_edition
from diagnostics.models import Diagnostic, Difficulte, SousTheme
from tests.browser import assert_accessible, login, screenshot
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

LARGEURS = [1280, 375]
REVISION = "Révision à mi-parcours — 2027"
MARS_2027 = datetime.date(2027, 3, 15)
SIGNE_LE = datetime.date(2024, 3, 1)

# The changes the Équipe ville makes in the revision (`modifier`).
ISOLEMENT = "Isolement des familles notamment monoparentales"
ISOLEMENT_REFORMULE = "Isolement croissant des familles monoparentales"
ADDICTIONS = "Montée des conduites addictives"
NOUVELLE = "Manque d'équipements sportifs ouverts en soirée dans les quartiers"

PAGE_WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"

# Containers whose content is cut off (wider than the container, which does not scroll
# when printed).
CLIPPED = """() => [...document.querySelectorAll('main .tableau-defilant')]
    .filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => e.querySelector('caption, th')?.textContent.trim().slice(0, 60))"""

# The caption of the table of editions runs past the edge of its scrolling container.
CAPTION_CUT = """() => {
    const caption = document.querySelector('main .tableau-defilant caption');
    return caption.getBoundingClientRect().right
        > caption.closest('.tableau-defilant').getBoundingClientRect().right + 1;
}"""

# Words broken in the middle by the layout: a word of a table cell (a hyphen ends a word)
# drawn on more than one line.
BROKEN_WORDS = """() => {
    const found = [];
    for (const cell of document.querySelectorAll('main table th, main table td')) {
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (node.parentElement.closest('.visuellement-cache')) continue;
            const text = node.textContent;
            const re = /[^\\s-]+-?/g;  // a break after a hyphen is a normal one
            let match;
            while ((match = re.exec(text)) !== null) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                if (range.getClientRects().length > 1) found.push(match[0]);
            }
        }
    }
    return found;
}"""


@pytest.fixture
def montlucon(montlucon):
    """Montluçon's diagnostic as its 2024 edition: signed in March 2024 (the factory dates
    an edition of the day the test runs)."""
    Diagnostic.objects.filter(pk=montlucon.pk).update(date_edition=SIGNE_LE)
    montlucon.refresh_from_db()
    return montlucon


@pytest.fixture
def administrateur(contrat):
    """Paul Martin, Administrateur of Montluçon's contract."""
    return UserFactory(
        username="paul.martin",
        first_name="Paul",
        last_name="Martin",
        role=Role.ADMINISTRATEUR,
        contrat=contrat,
    )


@pytest.fixture
def equipe(contrat):
    """Sophie Bernard, of the Équipe ville of Montluçon's contract."""
    return UserFactory(
        username="sophie.bernard",
        first_name="Sophie",
        last_name="Bernard",
        role=Role.EQUIPE_VILLE,
        contrat=contrat,
    )


def contrat_url(diagnostic):
    return reverse("diagnostics:contrat", args=[diagnostic.contrat.slug])


def etat_url(diagnostic, action):
    return reverse("diagnostics:etat_edition", args=[diagnostic.slug, action])


def commencer(diagnostic, user, nom=REVISION, date=MARS_2027):
    return start_edition(diagnostic.contrat, nom=nom, date=date, user=user)


def modifier(edition, user):
    """What the Équipe ville changes in a new edition: a difficulty reworded, one deleted,
    one added."""
    isolement = Difficulte.objects.get(diagnostic=edition, libelle__startswith=ISOLEMENT)
    isolement.libelle = isolement.libelle.replace(ISOLEMENT, ISOLEMENT_REFORMULE)
    editing.save_versioned(isolement, isolement.version, user, fields=["libelle"])
    editing.delete(Difficulte.objects.get(diagnostic=edition, libelle__startswith=ADDICTIONS), user)
    sports = SousTheme.objects.get(diagnostic=edition, libelle="Sports et loisirs")
    editing.create(Difficulte(sous_theme=sports, libelle=NOUVELLE), user)


@pytest.fixture
def revision(montlucon, administrateur, equipe):
    """The 2024 edition frozen; the 2027 revision started, changed and published."""
    states.freeze(montlucon, administrateur)
    edition = commencer(montlucon, administrateur)
    modifier(edition, equipe)
    return states.publish(edition, administrateur)


def assert_no_sideways_scroll(page):
    scroll_width, inner_width = page.evaluate(PAGE_WIDTH)
    assert scroll_width <= inner_width, f"{page.url} : {scroll_width} px pour {inner_width} px"


def expect_refused(browser_errors, status=400):
    """A form sent back with its errors answers 400, which Chromium reports as a console
    error: expected here."""
    browser_errors[:] = [e for e in browser_errors if f"status of {status}" not in e]


def ligne(page, texte):
    """The row of the table of editions that names this edition."""
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=texte))


# 1. Every new page type passes axe-core ---------------------------------------------------


@pytest.mark.parametrize("largeur", LARGEURS)
def test_the_contract_page_of_an_administrateur_with_every_action(
    page, montlucon, administrateur, largeur
):
    """Three editions, one in each state: each row shows its own actions."""
    states.freeze(montlucon, administrateur)
    publiee = states.publish(
        commencer(montlucon, administrateur, nom="Révision 2026", date=datetime.date(2026, 1, 5)),
        administrateur,
    )
    commencer(publiee, administrateur)
    page.set_viewport_size({"width": largeur, "height": 900})
    login(page, administrateur)

    page.goto(contrat_url(montlucon))

    expect(page.get_by_role("heading", level=1)).to_have_text(montlucon.contrat.nom)
    expect(ligne(page, "Diagnostic initial")).to_contain_text("Lecture seule")
    expect(ligne(page, "Révision 2026").locator(".actions-contrat a")).to_have_text(
        ["Figer « Révision 2026 »", "Dépublier « Révision 2026 »"]
    )
    expect(ligne(page, REVISION).locator(".actions-contrat a")).to_have_text(
        [f"Publier « {REVISION} »", f"Supprimer « {REVISION} »"]
    )
    # A draft is under way: no new edition before it is published or deleted.
    expect(page.get_by_role("link", name="Commencer une nouvelle édition")).to_have_count(0)
    assert_no_sideways_scroll(page)
    assert page.evaluate(BROKEN_WORDS) == []
    assert page.evaluate(CAPTION_CUT) is False
    screenshot(page, f"contrat-administrateur-{largeur}")
    assert_accessible(page)


@pytest.mark.parametrize("largeur", LARGEURS)
def test_the_contract_page_of_a_partner(page, revision, partenaire, largeur):
    page.set_viewport_size({"width": largeur, "height": 900})
    login(page, partenaire)

    page.goto(contrat_url(revision))

    expect(ligne(page, "Diagnostic initial")).to_contain_text("Figée")
    expect(ligne(page, REVISION)).to_contain_text("Publiée")
    expect(page.get_by_role("columnheader", name="Actions")).to_have_count(0)
    expect(page.get_by_role("link", name="Ce qui a changé entre les éditions")).to_be_visible()
    assert_no_sideways_scroll(page)
    assert page.evaluate(BROKEN_WORDS) == []
    assert page.evaluate(CAPTION_CUT) is False
    screenshot(page, f"contrat-partenaire-{largeur}")
    assert_accessible(page)


def test_the_new_edition_form_and_its_errors(page, montlucon, administrateur, browser_errors):
    login(page, administrateur)

    page.goto(reverse("diagnostics:nouvelle_edition", args=[montlucon.contrat.slug]))

    expect(page.get_by_role("heading", level=1)).to_have_text("Commencer une nouvelle édition")
    expect(page.get_by_label("Nom de l'édition")).to_be_visible()
    screenshot(page, "nouvelle-edition")
    assert_accessible(page)

    page.get_by_label("Date de l'édition").fill("")
    page.get_by_role("button", name="Commencer l’édition").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Donnez un nom à la nouvelle édition.")
    expect(alert).to_contain_text("Indiquez la date de l'édition.")
    expect(page).to_have_title(re.compile(r"^Erreur — "))
    expect_refused(browser_errors)
    # Each error leads to its field.
    alert.get_by_role("link", name=re.compile(r"^Nom de l'édition")).click()
    expect(page.get_by_label("Nom de l'édition")).to_be_focused()
    screenshot(page, "nouvelle-edition-erreurs")
    assert_accessible(page)


def test_the_confirmation_pages_of_figer_depublier_and_supprimer(
    page, montlucon, administrateur, browser_errors
):
    login(page, administrateur)

    page.goto(etat_url(montlucon, "figer"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Figer l'édition")
    expect(page.get_by_role("button", name="Figer définitivement")).to_be_visible()
    screenshot(page, "edition-figer")
    assert_accessible(page)

    page.goto(etat_url(montlucon, "depublier"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Dépublier l'édition")
    expect(page.get_by_label("Motif de la dépublication")).to_be_visible()
    screenshot(page, "edition-depublier")
    assert_accessible(page)
    # Without a reason: the error, linked to its field.
    page.get_by_role("button", name="Dépublier").click()
    expect(page.get_by_role("alert")).to_contain_text("Indiquez pourquoi l'édition est dépubliée.")
    expect_refused(browser_errors)
    screenshot(page, "edition-depublier-erreurs")
    assert_accessible(page)

    brouillon = commencer(montlucon, administrateur)
    page.goto(etat_url(brouillon, "supprimer"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Supprimer l'édition en brouillon")
    expect(page.get_by_role("main")).to_contain_text("Rien n’y a été modifié ni importé")
    expect(page.get_by_role("button", name="Supprimer définitivement")).to_be_visible()
    screenshot(page, "edition-supprimer")
    assert_accessible(page)


@pytest.mark.parametrize("largeur", LARGEURS)
def test_the_comparison_page_fits_and_passes_axe(page, revision, partenaire, largeur):
    page.set_viewport_size({"width": largeur, "height": 900})
    login(page, partenaire)

    page.goto(reverse("diagnostics:comparaison", args=[revision.contrat.slug]))

    expect(page.get_by_role("heading", level=1)).to_have_text("Ce qui a changé entre deux éditions")
    assert page.locator("main ins").count() and page.locator("main del").count()
    screenshot(page, f"comparaison-{largeur}")
    assert_no_sideways_scroll(page)
    assert page.evaluate(BROKEN_WORDS) == []
    assert_accessible(page)


def test_the_frozen_edition_shows_its_banner_and_no_edit_control(
    page, montlucon, administrateur, equipe
):
    states.freeze(montlucon, administrateur)
    login(page, equipe)

    page.goto(montlucon.piliers.get(numero=1).get_absolute_url())

    bandeau = page.locator(".bandeau-edition")
    expect(bandeau).to_contain_text("Figée")
    expect(bandeau).to_contain_text("Édition figée :")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name="Renommer le pilier")).to_have_count(0)
    expect(main.get_by_role("link", name=re.compile(r"^(Modifier|Ajouter)"))).to_have_count(0)
    expect(main.get_by_role("button", name=re.compile(r"^(Monter|Descendre)"))).to_have_count(0)
    expect(main.locator("details.menu-actions")).to_have_count(0)  # not even folded
    screenshot(page, "pilier-edition-figee")
    assert_accessible(page)


# 2. The 2027 revision, from the Administrateur's freezing to a partner's reading ----------


def test_an_administrateur_freezes_2024_starts_and_publishes_2027_a_partner_reads_the_changes(
    page, montlucon, administrateur, equipe, partenaire
):
    login(page, administrateur)
    page.goto(contrat_url(montlucon))

    # Freeze the signed 2024 edition.
    page.get_by_role("link", name="Figer « Diagnostic initial »").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Figer l'édition")
    page.get_by_role("button", name="Figer définitivement").click()
    expect(page.get_by_role("status")).to_contain_text("« Diagnostic initial » est figée")
    expect(ligne(page, "Diagnostic initial")).to_contain_text("Figée")
    expect(ligne(page, "Diagnostic initial")).to_contain_text("Lecture seule")

    # Start the 2027 revision through the form.
    page.get_by_role("link", name="Commencer une nouvelle édition").click()
    page.get_by_label("Nom de l'édition").fill(REVISION)
    page.get_by_label("Date de l'édition").fill("15/03/2027")
    page.get_by_role("button", name="Commencer l’édition").click()

    edition = montlucon.contrat.editions.get(statut=Diagnostic.Statut.BROUILLON)
    expect(page).to_have_url(re.compile(re.escape(edition.get_absolute_url()) + "$"))
    expect(page.get_by_role("status")).to_contain_text(f"L'édition « {REVISION} » est commencée")
    bandeau = page.locator(".bandeau-edition")
    expect(bandeau).to_contain_text(f"Édition « {REVISION} » du 15/03/2027")
    expect(bandeau).to_contain_text("Brouillon")
    assert_accessible(page)

    # The Équipe ville works in it meanwhile.
    modifier(edition, equipe)

    # Publish it.
    bandeau.get_by_role("link", name="Toutes les éditions du contrat").click()
    page.get_by_role("link", name=f"Publier « {REVISION} »").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Publier l'édition")
    assert_accessible(page)
    screenshot(page, "edition-publier")
    page.get_by_role("button", name="Publier", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"L'édition « {REVISION} » est publiée.")
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(3)  # the header and both editions, oldest first
    expect(ligne(page, "Diagnostic initial")).to_contain_text("Figée")
    expect(ligne(page, REVISION)).to_contain_text("Publiée")
    expect(ligne(page, REVISION)).to_contain_text("15/03/2027")
    expect(ligne(page, REVISION).get_by_role("cell").nth(2)).to_have_text("Diagnostic initial")
    screenshot(page, "contrat-apres-publication")

    # A partner reads what changed.
    page.context.clear_cookies()
    login(page, partenaire)
    page.goto(contrat_url(montlucon))
    page.get_by_role("link", name="Ce qui a changé entre les éditions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ce qui a changé entre deux éditions")
    resume = page.locator(".comparaison-resume")
    expect(resume).to_contain_text("De « Diagnostic initial » (01/03/2024)")
    expect(resume).to_contain_text(f"à « {REVISION} » (15/03/2027)")
    expect(resume).to_contain_text("3 changements")

    lignes = page.locator("main table tbody tr")
    reformulee = lignes.filter(has_text="croissant")
    supprimee = lignes.filter(has_text=ADDICTIONS)
    ajoutee = lignes.filter(has_text=NOUVELLE)
    expect(reformulee.locator("td").first).to_have_text(re.compile("reformulée", re.I))
    expect(supprimee.locator("td").first).to_have_text(re.compile("supprimée", re.I))
    expect(ajoutee.locator("td").first).to_have_text(re.compile("ajoutée", re.I))
    expect(reformulee.locator("td").nth(1)).to_contain_text("Sports et loisirs")

    # The reworded words: underlined or struck through (not only coloured), and named for
    # a screen reader.
    inserted, deleted = reformulee.locator("ins"), reformulee.locator("del")
    expect(inserted).to_have_count(1)
    expect(deleted).to_have_count(1)
    expect(inserted).to_be_visible()
    expect(deleted).to_be_visible()
    assert "underline" in inserted.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert "line-through" in deleted.evaluate("e => getComputedStyle(e).textDecorationLine")
    expect(reformulee.get_by_role("rowheader")).to_have_accessible_name(
        re.compile(
            r"^Difficulté Isolement \[ajouté : croissant ?\] des familles "
            r"\[supprimé : notamment ?\] monoparentales, "
        )
    )
    # The cue is for screen readers only: on screen, the sentence reads as written.
    visible = reformulee.get_by_role("rowheader").evaluate(
        """th => [...th.querySelectorAll('.comparaison-diff')].map(d => {
            const copy = d.cloneNode(true);
            copy.querySelectorAll('.visuellement-cache').forEach(s => s.remove());
            return copy.textContent;
        }).join('')"""
    )
    assert visible.startswith("Isolement croissant des familles notamment monoparentales,")
    assert page.locator("main .visuellement-cache").evaluate_all(
        "spans => spans.every(s => s.getBoundingClientRect().width <= 1)"
    )
    assert_accessible(page)
    screenshot(page, "comparaison-partenaire")

    # Printed: the changes stay, the controls go, the cues remain.
    page.set_viewport_size({"width": 680, "height": 900})  # about an A4 page's text width
    page.emulate_media(media="print")
    for changement in (reformulee, supprimee, ajoutee):
        expect(changement).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(resume.get_by_text("3 changements")).to_be_visible()
    expect(page.locator(".comparaison-choix")).to_be_hidden()
    expect(page.get_by_role("link", name="Télécharger les changements (XLSX)")).to_be_hidden()
    assert "underline" in inserted.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert "line-through" in deleted.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert page.evaluate(CLIPPED) == []
    assert page.evaluate(BROKEN_WORDS) == []
    screenshot(page, "comparaison-impression")
