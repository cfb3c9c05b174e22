"""Login with ProConnect in Chromium, against a real OpenID Connect provider on 127.0.0.1
(tests/proconnect_provider.py): invitation, login page, the provider's page, back signed
in with a new account and its organisation, the role taken on the invitation's page,
then the logout through the provider's end-session page. And the pages of failure."""

import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from comptes.models import Profil
from comptes.proconnect import forget_provider
from comptes.roles import Role
from diagnostics import membres
from diagnostics.models import Membre
from tests.browser import assert_accessible
from tests.factories import DiagnosticFactory, UserFactory
from tests.proconnect_provider import (  # noqa: F401  (an autouse fixture)
    CLIENT_ID,
    CLIENT_SECRET,
    SCOPES,
    _provider_warnings_are_not_ours,
    provider,
)

pytestmark = pytest.mark.browser

User = get_user_model()
EMAIL = "nadia.benali@ville-exemple.fr"
SIRET = "21030185200017"


@pytest.fixture
def oidc(settings, page):
    """ProConnect configured with the test provider (the site's Content Security Policy
    unchanged: the flow must pass it as it is)."""
    oidc = provider()
    settings.PROCONNECT_CLIENT_ID = CLIENT_ID
    settings.PROCONNECT_CLIENT_SECRET = CLIENT_SECRET
    settings.PROCONNECT_DISCOVERY_URL = oidc.discovery_url()
    settings.PROCONNECT_SCOPES = SCOPES
    forget_provider()
    # The provider's pages load a stylesheet from a CDN: the network is closed here.
    page.route(
        re.compile(r"^https://cdn\.jsdelivr\.net/.*"),
        lambda route: route.fulfill(status=200, content_type="text/css", body=""),
    )
    yield oidc
    forget_provider()


@pytest.fixture
def invitation_link():
    contrat = DiagnosticFactory(titre="Contrat de ville de Vichy — diagnostic").contrat
    administrateur = UserFactory(role=Role.ADMINISTRATEUR, contrat=contrat)
    invitation, link = membres.invite(
        contrat, email=EMAIL, role=Role.EQUIPE_VILLE, invite_par=administrateur
    )
    return invitation, urlsplit(link).path


def test_the_whole_proconnect_flow(page, live_server, oidc, invitation_link):
    invitation, link = invitation_link
    oidc.set_user(
        "sub-nadia",
        email=EMAIL,
        given_name="Nadia",
        usual_name="Benali",
        siret=SIRET,
        organization_label="Commune de Vichy",
        uid="agent-42",
    )

    # The invitation sends to the login page, which offers ProConnect.
    page.goto(f"{reverse('login')}?next={link}")
    assert_accessible(page)
    page.get_by_role("link", name="Se connecter avec ProConnect").click()

    # The provider's page: sign in as this person.
    page.wait_for_url(f"{oidc.url}/oauth2/authorize?*")
    page.locator("input[name=sub]").fill("sub-nadia")
    page.get_by_role("button", name="Authorize").click()

    # Back on the invitation's page, signed in with a new account.
    page.wait_for_url(f"{live_server.url}{link}")
    assert page.get_by_text("Vous êtes connecté en tant que Nadia Benali").is_visible()
    user = User.objects.get(email=EMAIL)
    profil = Profil.objects.select_related("organisation").get(compte=user)
    assert profil.proconnect_sub == "sub-nadia"
    assert (profil.organisation.siret, profil.organisation.nom) == (SIRET, "Commune de Vichy")

    # The role of the invitation.
    page.get_by_role("button", name="Rejoindre le contrat").click()
    page.wait_for_load_state()
    assert Membre.objects.filter(
        contrat=invitation.contrat, compte=user, role=Role.EQUIPE_VILLE.value
    ).exists()

    # Logout: the session ends here, then at the provider, and the browser comes home.
    # (Through a page of ours, which goes on at once: not a redirection of the form.)
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(f"{oidc.url}/oauth2/end_session?*")
    assert "id_token_hint" in page.url
    page.get_by_role("button", name="End session").click()
    # (The home page, which offers whoever is signed out to sign in.)
    page.wait_for_url(re.compile(re.escape(live_server.url) + r"/.*state.+"))
    assert page.get_by_role("link", name="Se connecter").first.is_visible()
    assert page.get_by_role("button", name="Se déconnecter").count() == 0


def test_the_failure_page_is_accessible(page, live_server, oidc):
    page.goto(f"{reverse('proconnect_callback')}?code=inconnu&state=inconnu")

    page.wait_for_url(f"{live_server.url}{reverse('proconnect_echec')}")
    assert page.get_by_role("heading", name="La connexion avec ProConnect a échoué").is_visible()
    assert_accessible(page)


def test_the_refusal_of_an_unknown_person_is_accessible(page, live_server, oidc, browser_errors):
    oidc.set_user("sub-inconnu", email="inconnu@ailleurs.fr", siret=SIRET)
    accounts = User.objects.count()

    page.goto(reverse("login"))
    page.get_by_role("link", name="Se connecter avec ProConnect").click()
    page.wait_for_url(f"{oidc.url}/oauth2/authorize?*")
    page.locator("input[name=sub]").fill("sub-inconnu")
    page.get_by_role("button", name="Authorize").click()

    page.wait_for_url(f"{live_server.url}{reverse('proconnect_callback')}?*")
    assert page.get_by_role("heading", name="Aucun compte pour cette adresse").is_visible()
    assert User.objects.count() == accounts
    # Chromium reports the page's own 403 status as a console error: expected here.
    callback = f"{live_server.url}{reverse('proconnect_callback')}"
    browser_errors[:] = [error for error in browser_errors if callback not in error]
    assert_accessible(page)
