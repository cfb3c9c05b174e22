"""An Administrateur invites a partner in the browser; the partner opens the e-mailed link,
creates an account and reads the contract; the members' pages pass axe-core."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from comptes.roles import Role
from diagnostics.models import Membre
from tests.browser import assert_accessible, login, screenshot
from tests.factories import DiagnosticFactory, UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def diagnostic():
    return DiagnosticFactory(titre="Contrat de ville de Vierzon — diagnostic")


@pytest.fixture
def contrat(diagnostic):
    return diagnostic.contrat


def test_an_invited_partner_joins_the_contract(page, contrat, diagnostic, browser_errors):
    nadia = UserFactory(
        username="nadia",
        first_name="Nadia",
        last_name="Benali",
        role=Role.ADMINISTRATEUR,
        contrat=contrat,
    )
    login(page, nadia)
    page.goto(contrat.get_absolute_url())
    page.get_by_role("link", name="Membres du contrat : inviter, changer un rôle").click()

    assert page.get_by_role("heading", level=1).inner_text() == "Membres du contrat"
    screenshot(page, "membres")
    assert_accessible(page)
    page.get_by_label("Adresse électronique").fill("lea.roux@caf.fr")
    page.get_by_role("radio", name=re.compile("Partenaire")).check()
    page.get_by_role("button", name="Envoyer l’invitation").click()

    assert "Invitation envoyée à lea.roux@caf.fr" in page.locator("main").inner_text()
    assert (
        "lea.roux@caf.fr"
        in page.get_by_role("heading", name="Invitations en attente")
        .locator("xpath=..")
        .inner_text()
    )
    link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[-1].body)[0]

    page.get_by_role("button", name="Se déconnecter").click()
    page.goto(link)
    assert (
        "Rejoindre « Contrat de ville de Vierzon — diagnostic »" in page.locator("h1").inner_text()
    )
    screenshot(page, "invitation")
    assert_accessible(page)
    page.get_by_label("Prénom").fill("Léa")
    page.get_by_label(re.compile(r"^Nom\b")).fill("Roux")
    page.get_by_label(re.compile(r"^Organisation\b")).fill("CAF du Cher")
    page.get_by_label("Nature de l'organisation").select_option(
        label="Opérateur (CAF, France Travail, ARS…)"
    )
    page.get_by_label(re.compile(r"^Mot de passe\b")).fill("un mot de passe assez long")
    page.get_by_label("Confirmation du mot de passe").fill("un mot de passe assez long")
    page.get_by_role("button", name="Créer mon compte et rejoindre le contrat").click()

    assert (
        "Vous avez rejoint" in page.locator("main").inner_text()
        or "Votre compte est créé" in page.locator("main").inner_text()
    )
    assert Membre.objects.get(contrat=contrat, compte__email="lea.roux@caf.fr").role == "Partenaire"
    page.goto(diagnostic.get_absolute_url())
    assert page.locator("h1").inner_text().startswith("Contrat de ville de Vierzon")

    # Used once: the link now says so.
    response = page.goto(link)
    assert response.status == 410
    assert page.locator("h1").inner_text() == "Invitation expirée"
    assert_accessible(page)
    # Chromium reports the page's own 410 status as a console error: expected here.
    browser_errors[:] = [error for error in browser_errors if link.split("//")[1] not in error]


def test_the_removal_page_passes_axe(page, contrat):
    nadia = UserFactory(role=Role.ADMINISTRATEUR, contrat=contrat)
    marc = UserFactory(
        first_name="Marc", last_name="Petit", role=Role.EQUIPE_VILLE, contrat=contrat
    )
    login(page, nadia)
    membre = Membre.objects.get(compte=marc)

    page.goto(reverse("diagnostics:membre_retirer", kwargs={"slug": contrat.slug, "pk": membre.pk}))
    assert page.locator("h1").inner_text() == "Retirer Marc Petit"
    screenshot(page, "membre-retirer")
    assert_accessible(page)
    page.get_by_role("button", name="Retirer du contrat").click()

    assert "ne fait plus partie du contrat" in page.locator("main").inner_text()
    assert not Membre.objects.filter(pk=membre.pk).exists()
