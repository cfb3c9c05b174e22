"""The annual report of Montluçon for 2025, end to end in a real browser: an Administrateur
starts it from the contract's reports; the Équipe ville writes two sections (with the
keyboard, through a stale form first) and records the bodies consulted; the Administrateur
sends the draft to consultation, cannot adopt it while a body may still answer, records
that body's opinion, adopts and publishes it; an anonymous visitor reads the public page
and downloads its PDF. Every page type met passes axe-core (WCAG 2.1 A and AA) at 1280 px;
the report's page also at 375 px, without anything wider than the window."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from rapports import consultation, etats
from rapports.models import Instance, Rapport
from tests.browser import assert_accessible, assert_fits_viewport, login
from tests.rapports.donnees import JEUNES, PERMIS, indicateurs

pytestmark = pytest.mark.browser

ORIENTATIONS = "Orientations et programme d'actions du contrat de ville"
PERSPECTIVES = "Perspectives d'évolution"
TEXTE_ORIENTATIONS = (
    "## Trois orientations pour 2025\n\n"
    "- l'emploi des jeunes\n"
    "- la tranquillité publique\n"
    "- le cadre de vie"
)
TEXTE_PERSPECTIVES = "En 2026, le contrat renforce l'accompagnement vers le permis de conduire."
ASSEMBLEE = "Conseil communautaire de Montluçon Communauté"
MUNICIPAL = "Conseil municipal de Montluçon"
FONTBOUILLANT = "Conseil citoyen de Fontbouillant"
RIVE_GAUCHE = "Conseil citoyen de Rive Gauche"
ANNEXE = "Instances consultées sur le projet de rapport"


def expect_refused(browser_errors, status=400):
    """A form sent back with its errors answers 400, which Chromium logs as a console
    error: expected here."""
    assert [e for e in browser_errors if f"status of {status}" in e], browser_errors
    browser_errors[:] = [e for e in browser_errors if f"status of {status}" not in e]


def switch_to(page, user):
    page.context.clear_cookies()
    login(page, user)


def row(page, region, header):
    """The row of a table (in its scrolling region named `region`) headed by `header`."""
    return (
        page.get_by_role("region", name=region)
        .get_by_role("row")
        .filter(has=page.get_by_role("rowheader", name=header))
    )


def add_body(page, suggestion, date_envoi):
    """The Équipe ville records a body from the suggestions of the consultation page."""
    page.get_by_role("link", name=suggestion, exact=True).click()
    expect(page.get_by_label("Nom de l'instance")).to_have_value(suggestion)
    page.get_by_label("Projet envoyé le").fill(date_envoi.isoformat())
    page.get_by_role("button", name="Ajouter l’instance").click()
    expect(page.get_by_role("status")).to_contain_text(f"Instance ajoutée : {suggestion}")


def test_the_2025_report_from_its_start_to_its_publication(
    page, montlucon, marie, paul, browser_errors
):
    indicateurs(montlucon)
    contrat = montlucon.contrat
    today = timezone.localdate()
    a_month_and_a_half_ago = today - datetime.timedelta(days=45)
    forty_days_ago = today - datetime.timedelta(days=40)

    # The Administrateur starts the 2025 report from the contract's reports.
    login(page, paul)
    page.goto(reverse("rapports:liste", args=[contrat.slug]))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Rapports annuels sur la politique de la ville"
    )
    assert_accessible(page)
    page.get_by_label("Année du rapport").select_option("2025")
    page.get_by_role("button", name="Commencer le rapport").click()
    expect(page.get_by_role("status")).to_contain_text("Le rapport annuel 2025 est commencé.")
    rapport = Rapport.objects.get(contrat=contrat, annee=2025)
    assert page.url.endswith(rapport.get_absolute_url())

    # The Équipe ville reads the draft: every section, the generated indicators (the
    # secret statistique applied).
    switch_to(page, marie)
    page.goto(rapport.get_absolute_url())
    expect(page.locator(".mention-rapport")).to_contain_text("Projet de rapport (brouillon)")
    expect(row(page, f"{PERMIS} : dernières valeurs", "Ensemble du territoire")).to_contain_text(
        "362"
    )
    fontbouillant = row(page, f"{JEUNES} : dernières valeurs", "Fontbouillant (QN00305M)")
    expect(fontbouillant.get_by_role("cell").first).to_have_text("secret")
    expect(page.get_by_role("button", name="Envoyer le projet en consultation")).to_have_count(0)
    assert_accessible(page)

    # The draft's page at a phone's width: nothing wider than the window.
    page.set_viewport_size({"width": 375, "height": 800})
    assert_fits_viewport(page)
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})

    # Orientations, with the keyboard: the textarea is reached by its label, the form sent
    # with Tab and Enter.
    page.get_by_role("link", name=f"Rédiger la section « {ORIENTATIONS} »").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ORIENTATIONS)
    texte = page.get_by_role("textbox", name="Texte", exact=True)
    expect(texte).to_have_attribute("aria-describedby", "aide-syntaxe")
    assert_accessible(page)
    texte.focus()
    page.keyboard.insert_text(TEXTE_ORIENTATIONS)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Enregistrer la section")).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(f"Section « {ORIENTATIONS} » enregistrée.")
    orientations = page.locator("section.partie-rapport").filter(
        has=page.get_by_role("heading", name=ORIENTATIONS, level=2)
    )
    expect(
        orientations.get_by_role("heading", level=3, name="Trois orientations pour 2025")
    ).to_be_visible()
    expect(orientations.get_by_role("listitem")).to_have_text(
        ["l'emploi des jeunes", "la tranquillité publique", "le cadre de vie"]
    )

    # Perspectives: someone else saves the section meanwhile; the stale form is refused,
    # said in an alert, and nothing of it is saved.
    page.get_by_role("link", name=f"Rédiger la section « {PERSPECTIVES} »").click()
    section = rapport.sections.get(cle="perspectives")
    etats.enregistrer_section(section, "Version de Paul.", section.revision, paul)
    page.get_by_label("Texte", exact=True).fill("Version périmée.")
    page.get_by_role("button", name="Enregistrer la section").click()
    expect(page.get_by_role("alert")).to_contain_text("modifiée par une autre personne")
    expect_refused(browser_errors)
    assert_accessible(page)
    section.refresh_from_db()
    assert section.texte == "<p>Version de Paul.</p>"
    page.goto(page.url)  # the editor again, with the section as saved
    expect(page.get_by_label("Texte", exact=True)).to_have_value("Version de Paul.")
    page.get_by_label("Texte", exact=True).fill(TEXTE_PERSPECTIVES)
    page.get_by_role("button", name="Enregistrer la section").click()
    expect(page.get_by_role("status")).to_contain_text(f"Section « {PERSPECTIVES} » enregistrée.")
    expect(page.locator("#section-perspectives").locator("..")).to_contain_text(TEXTE_PERSPECTIVES)

    # The consultation: two conseils citoyens sent the draft more than a month ago (their
    # deadline passed), the conseil municipal today.
    page.get_by_role("link", name="Consultation des instances").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Consultation sur le projet de rapport"
    )
    assert_accessible(page)
    add_body(page, FONTBOUILLANT, a_month_and_a_half_ago)
    add_body(page, RIVE_GAUCHE, forty_days_ago)
    add_body(page, MUNICIPAL, today)
    municipal = Instance.objects.get(rapport=rapport, nom=MUNICIPAL)
    assert municipal.date_limite == consultation.date_limite_minimale(today)
    bodies = "3 instances consultées"
    expect(row(page, bodies, FONTBOUILLANT)).to_contain_text("Réputé favorable")
    expect(row(page, bodies, MUNICIPAL)).to_contain_text(
        f"En attente (jusqu'au {municipal.date_limite:%d/%m/%Y})"
    )
    assert_accessible(page)

    # The Administrateur sends the draft to consultation; its adoption is refused while
    # the conseil municipal may still answer.
    switch_to(page, paul)
    page.goto(rapport.get_absolute_url())
    page.get_by_role("button", name="Envoyer le projet en consultation").click()
    expect(page.get_by_role("status")).to_contain_text("Le projet de rapport est en consultation.")
    expect(page.locator(".mention-rapport")).to_contain_text("soumis à consultation")
    page.get_by_label("Date de la délibération").fill(today.isoformat())
    page.get_by_role("button", name="Enregistrer l’adoption").click()
    expect(page.get_by_role("status")).to_contain_text(
        "ne peut pas être adopté avant la fin de la consultation"
    )
    rapport.refresh_from_db()
    assert rapport.statut == Rapport.Statut.CONSULTATION

    # The conseil municipal's opinion, on its page.
    page.get_by_role("link", name="Consultation des instances").click()
    page.get_by_role("link", name=MUNICIPAL, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(MUNICIPAL)
    assert_accessible(page)
    avis = page.get_by_role("combobox", name=re.compile("^Avis rendu"))
    avis.select_option(label="Favorable avec réserves")
    expect(page.get_by_label("Avis rendu le")).to_have_value(today.isoformat())
    page.get_by_label("Texte de l'avis").fill("Le conseil demande un point d'étape en juin.")
    page.get_by_role("button", name="Enregistrer l’avis").click()
    expect(page.get_by_role("status")).to_contain_text(f"Avis de « {MUNICIPAL} » enregistré.")
    expect(page.locator(".fiche-instance")).to_contain_text(
        f"Favorable avec réserves (rendu le {today:%d/%m/%Y})"
    )

    # Adopted today, then published.
    page.goto(rapport.get_absolute_url())
    page.get_by_label("Date de la délibération").fill(today.isoformat())
    page.get_by_label("Assemblée délibérante").fill(ASSEMBLEE)
    page.get_by_role("button", name="Enregistrer l’adoption").click()
    expect(page.get_by_role("status")).to_contain_text("Le rapport est adopté")
    expect(page.locator(".mention-rapport")).to_contain_text(
        f"Adopté le {today:%d/%m/%Y} ({ASSEMBLEE})"
    )
    page.get_by_role("button", name="Publier le rapport").click()
    expect(page.get_by_role("status")).to_contain_text("Le rapport est publié")
    expect(page.locator(".mention-rapport")).to_contain_text(
        f"Adopté le {today:%d/%m/%Y} ({ASSEMBLEE}), publié le {today:%d/%m/%Y}"
    )
    expect(page.get_by_role("link", name="Rédiger la section")).to_have_count(0)
    expect(row(page, ANNEXE, FONTBOUILLANT)).to_contain_text("Réputé favorable")
    expect(row(page, ANNEXE, RIVE_GAUCHE)).to_contain_text("Réputé favorable")
    expect(row(page, ANNEXE, MUNICIPAL)).to_contain_text("Favorable avec réserves")
    assert_accessible(page)
    page.get_by_role("link", name="Consultation des instances").click()
    expect(page.locator(".statut-rapport")).to_contain_text("Sa consultation est close")
    expect(row(page, bodies, RIVE_GAUCHE)).to_contain_text("Réputé favorable")
    assert_accessible(page)

    # Signed out: the public page and its PDF.
    with page.expect_navigation():
        page.get_by_role("button", name="Se déconnecter").click()
    page.goto(rapport.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Rapport annuel 2025 sur la politique de la ville"
    )
    expect(page.locator(".mention-rapport")).to_contain_text(f"Adopté le {today:%d/%m/%Y}")
    expect(page.get_by_role("button", name="Publier le rapport")).to_have_count(0)
    expect(page.get_by_role("link", name="Consultation des instances")).to_have_count(0)
    expect(page.locator("#section-perspectives").locator("..")).to_contain_text(TEXTE_PERSPECTIVES)
    assert_accessible(page)
    page.set_viewport_size({"width": 375, "height": 800})
    assert_fits_viewport(page)
    assert_accessible(page)

    lien = page.get_by_role("link", name="Rapport en PDF")
    response = page.request.get(lien.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")
