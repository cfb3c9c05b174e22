"""A member of the Équipe ville edits Montluçon's diagnostic in a real browser: edits a
difficulty, reorders, moves a sous-thème, sees the change and its history; every edit
and history page passes axe-core (WCAG 2.1 A and AA)."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from comptes.roles import Role
from diagnostics import editing
from diagnostics.models import Difficulte, SousTheme, Theme
from indicateurs.models import Indicateur
from tests.browser import assert_accessible, login, screenshot
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

ISOLEMENT = "Isolement des familles notamment monoparentales"


@pytest.fixture
def equipe(contrat):
    """Sophie Bernard, of the Équipe ville of the contract (Montluçon's)."""
    return UserFactory(
        username="sophie.bernard",
        first_name="Sophie",
        last_name="Bernard",
        role=Role.EQUIPE_VILLE,
        contrat=contrat,
    )


def pilier_1(diagnostic):
    return diagnostic.piliers.get(numero=1).get_absolute_url()


def libelles(section):
    return section.locator(".elements-groupe").first.locator(".element-libelle")


def test_a_staff_member_edits_reorders_moves_and_reads_the_history(page, montlucon, equipe):
    sports = SousTheme.objects.get(theme__pilier__diagnostic=montlucon, libelle="Sports et loisirs")
    isolement, peu_d_actions, *_ = sports.difficultes.order_by("position", "pk")
    assert isolement.libelle.startswith(ISOLEMENT)
    login(page, equipe)
    page.goto(pilier_1(montlucon))
    assert_accessible(page)

    # Edit a difficulty: its libellé and a quartier, from its "Actions" menu.
    item = page.locator(f"#difficulte-{isolement.pk}")
    item.locator("summary").click()
    item.get_by_role("link", name="Modifier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Modifier la difficulté")
    assert_accessible(page)
    screenshot(page, "edition-difficulte")
    page.get_by_label("Libellé").fill(
        "Isolement des familles monoparentales, peu de départs en vacances"
    )
    page.get_by_label("Fontbouillant (QN00305M)").check()
    page.get_by_role("button", name="Enregistrer les modifications").click()

    expect(page.get_by_role("status")).to_contain_text("La difficulté a été modifiée.")
    expect(item.locator(".element-libelle")).to_have_text(
        "Isolement des familles monoparentales, peu de départs en vacances"
    )
    expect(item.locator(".badge-quartier")).to_have_text(["Fontbouillant"])

    # Reorder: the second difficulty goes up, with a plain form button.
    section = page.locator(f"#sous-theme-{sports.pk}")
    second = section.locator(f"#difficulte-{peu_d_actions.pk}")
    second.locator("summary").click()
    second.get_by_role("button", name="Monter").click()
    expect(page.get_by_role("status")).to_contain_text("a été montée.")
    expect(libelles(section).first).to_have_text(re.compile(r"^Peu d'actions ciblées"))
    expect(libelles(section).nth(1)).to_have_text(re.compile(r"^Isolement des familles"))

    # Move the sous-thème to the thème « Jeunesse ».
    section.locator("summary", has_text="Actions du sous-thème").click()
    section.get_by_role("link", name="Déplacer le sous-thème").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Déplacer le sous-thème « Sports et loisirs »"
    )
    assert_accessible(page)
    page.get_by_label("Nouveau thème").select_option(label="Jeunesse")
    page.get_by_role("button", name="Déplacer").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Le sous-thème a été déplacé vers le thème « Jeunesse »."
    )
    jeunesse = page.get_by_role("region", name="Jeunesse", exact=True)
    expect(jeunesse.get_by_role("heading", name="Sports et loisirs", exact=True)).to_be_visible()
    sports.refresh_from_db()
    assert sports.theme.libelle == "Jeunesse"

    # The history of the difficulty: who, what before and after.
    item = page.locator(f"#difficulte-{isolement.pk}")
    item.locator("summary").click()
    item.get_by_role("link", name="Historique").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Isolement des familles monoparentales, peu de départs en vacances"
    )
    versions = page.locator(".version")
    # Newest first: its new place after the reordering, then her edit, then the import.
    expect(versions.first).to_contain_text("Ordre modifié")
    edit = versions.nth(1)
    expect(edit.get_by_role("heading", level=2)).to_have_text(re.compile(r"^Modification du"))
    expect(edit).to_contain_text("Sophie Bernard")
    quartiers = edit.get_by_role("row", name=re.compile(r"^Quartiers concernés"))
    expect(quartiers.get_by_role("cell")).to_have_text(
        ["aucun (tout le territoire)", "Fontbouillant"]
    )
    creation = page.locator(".version").last
    expect(creation).to_contain_text("Import du fichier « diagnostic-montlucon.tsv »")
    assert_accessible(page)
    screenshot(page, "historique-difficulte")

    # Every change is listed on the diagnostic's latest changes, under her name.
    page.goto(reverse("diagnostics:modifications", args=[montlucon.slug]))
    rows = page.get_by_role("table").get_by_role("row")
    # One line per action: the edit, the move up (its swapped sibling not listed), the move.
    expect(rows.filter(has_text="Sophie Bernard")).to_have_count(3)
    assert_accessible(page)
    screenshot(page, "dernieres-modifications")


def test_a_concurrent_change_is_shown_beside_the_preserved_input(page, montlucon, equipe):
    item = Difficulte.objects.du_diagnostic(montlucon).get(libelle__startswith=ISOLEMENT)
    login(page, equipe)
    page.goto(
        reverse("diagnostics:element_modifier", args=[montlucon.slug, "difficultes", item.pk])
    )
    page.get_by_label("Libellé").fill("Ma version de la difficulté")
    # Meanwhile, a colleague saves the same difficulty.
    colleague = UserFactory(
        username="karim",
        first_name="Karim",
        last_name="Haddad",
        role=Role.EQUIPE_VILLE,
        contrat=montlucon.contrat,
    )
    item.libelle = "La version du collègue"
    editing.save_versioned(item, 1, colleague, fields=["libelle"])

    page.get_by_role("button", name="Enregistrer les modifications").click()

    alert = page.get_by_role("alert").first
    expect(alert).to_contain_text("Quelqu’un a modifié cet élément pendant que vous le modifiiez")
    expect(alert).to_contain_text("Karim Haddad")
    expect(page.get_by_label("Libellé")).to_have_value("Ma version de la difficulté")
    expect(page.locator(".valeur-actuelle").first).to_contain_text("La version du collègue")
    assert_accessible(page)
    screenshot(page, "edition-conflit")

    page.get_by_role("button", name="Enregistrer les modifications").click()
    expect(page.get_by_role("status")).to_contain_text("La difficulté a été modifiée.")
    item.refresh_from_db()
    assert item.libelle == "Ma version de la difficulté"


def test_every_edit_and_history_page_is_accessible(page, montlucon, equipe):
    slug = montlucon.slug
    sports = SousTheme.objects.get(theme__pilier__diagnostic=montlucon, libelle="Sports et loisirs")
    theme = sports.theme
    item = sports.difficultes.order_by("position").first()
    indicateur = Indicateur.objects.filter(sous_theme=sports).first()
    item.libelle = "Une version à restaurer"
    editing.save_versioned(item, 1, equipe, fields=["libelle"])
    deleted = sports.difficultes.order_by("position").last()
    deleted_pk = deleted.pk
    editing.delete(deleted, equipe)
    first_version = Difficulte.history.filter(id=item.pk).earliest()
    deletion = Difficulte.history.get(id=deleted_pk, history_type="-")
    element = [slug, "difficultes", item.pk]

    pages = {
        "element_ajouter": ("element_ajouter", [slug, "sous-themes", sports.pk, "difficultes"]),
        "indicateur_ajouter": ("element_ajouter", [slug, "themes", theme.pk, "indicateurs"]),
        "element_modifier_indicateur": ("element_modifier", [slug, "indicateurs", indicateur.pk]),
        **{
            name: (name, element)
            for name in (
                "element_deplacer",
                "element_scinder",
                "element_fusionner",
                "element_supprimer",
                "element_historique",
            )
        },
        "pilier_modifier": ("pilier_modifier", [slug, 1]),
        "pilier_historique": ("pilier_historique", [slug, 1]),
        "theme_ajouter": ("theme_ajouter", [slug, 1]),
        "theme_modifier": ("theme_modifier", [slug, theme.pk]),
        "theme_supprimer": ("theme_supprimer", [slug, theme.pk]),
        "theme_historique": ("theme_historique", [slug, theme.pk]),
        "sous_theme_ajouter": ("sous_theme_ajouter", [slug, theme.pk]),
        "sous_theme_modifier": ("sous_theme_modifier", [slug, sports.pk]),
        "sous_theme_supprimer": ("sous_theme_supprimer", [slug, sports.pk]),
        "sous_theme_historique": ("sous_theme_historique", [slug, sports.pk]),
        "restaurer_version": ("restaurer", [slug, "difficulte", first_version.history_id]),
        "restaurer_suppression": ("restaurer", [slug, "difficulte", deletion.history_id]),
        "modifications": ("modifications", [slug]),
    }
    login(page, equipe)
    page.goto(sports.get_absolute_url())
    assert_accessible(page)
    for name, (url_name, args) in pages.items():
        response = page.goto(reverse(f"diagnostics:{url_name}", args=args))
        assert response.status == 200, name
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        assert_accessible(page)

    # WCAG 1.4.10 (reflow): no horizontal scrolling on a phone.
    page.set_viewport_size({"width": 320, "height": 800})
    for name, (url_name, args) in pages.items():
        page.goto(reverse(f"diagnostics:{url_name}", args=args))
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 320, f"{name} : la page défile horizontalement ({width} px)."
    page.set_viewport_size({"width": 1280, "height": 900})

    # A form with errors: the summary links to the field.
    page.goto(reverse("diagnostics:theme_modifier", args=[slug, theme.pk]))
    page.get_by_label("Libellé").fill("")
    page.get_by_role("button", name="Enregistrer le libellé").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Libellé : Ce champ est obligatoire.")
    assert_accessible(page)
    summary.get_by_role("link").click()
    expect(page.get_by_label("Libellé")).to_be_focused()
    screenshot(page, "edition-erreur")
    assert Theme.objects.get(pk=theme.pk).libelle == theme.libelle
