"""Login with ProConnect (comptes.proconnect) against a real OpenID Connect provider
(tests/proconnect_provider.py, on 127.0.0.1): the Django test client plays the browser,
the provider issues real codes and signed tokens, the site checks them."""

import logging
import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from comptes.models import Organisation, Profil
from comptes.proconnect import forget_provider
from comptes.roles import Role
from diagnostics import membres
from diagnostics.models import Membre
from tests.factories import PASSWORD, DiagnosticFactory, UserFactory
from tests.proconnect_provider import (  # noqa: F401  (an autouse fixture)
    CLIENT_ID,
    CLIENT_SECRET,
    SCOPES,
    _provider_warnings_are_not_ours,
    provider,
    query,
)

User = get_user_model()
SIRET = "21030185200017"  # a commune's SIRET (14 digits)
NOUVELLE = "nouvelle.personne@ville-exemple.fr"


@pytest.fixture(scope="session")
def oidc():
    return provider()


@pytest.fixture
def proconnect(settings, oidc):
    """ProConnect configured with the test provider."""
    settings.PROCONNECT_CLIENT_ID = CLIENT_ID
    settings.PROCONNECT_CLIENT_SECRET = CLIENT_SECRET
    settings.PROCONNECT_DISCOVERY_URL = oidc.discovery_url()
    settings.PROCONNECT_SCOPES = SCOPES
    forget_provider()
    yield oidc
    forget_provider()


@pytest.fixture
def invitation():
    """A usable invitation of NOUVELLE to a contract, as Équipe ville; and its link."""
    contrat = DiagnosticFactory().contrat
    administrateur = UserFactory(role=Role.ADMINISTRATEUR, contrat=contrat)
    invitation, link = membres.invite(
        contrat, email=NOUVELLE, role=Role.EQUIPE_VILLE, invite_par=administrateur
    )
    return invitation, urlsplit(link).path


def claims(email=NOUVELLE, **extra):
    return {
        "email": email,
        "given_name": "Nadia",
        "usual_name": "Benali",
        "siret": SIRET,
        "organization_label": "Commune de Montluçon",
        "uid": "agent-42",
        **extra,
    }


def start(client, next_url=None):
    """The login page's ProConnect button: the site sends the browser to the provider."""
    url = reverse("proconnect_login") + (f"?next={next_url}" if next_url else "")
    response = client.get(url)
    assert response.status_code == 302
    return response["Location"]


def callback_path(location):
    parts = urlsplit(location)
    assert parts.path == reverse("proconnect_callback"), location
    return f"{parts.path}?{parts.query}"


def sign_in(client, oidc, sub, next_url=None):
    """The whole flow: button, provider's page, return to the site. Returns the
    response of the site's callback."""
    location = oidc.authorize(start(client, next_url), sub)
    return client.get(callback_path(location))


def signed_in_user(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def assert_failed(response, client):
    assert response.status_code == 302
    assert response["Location"] == reverse("proconnect_echec")
    assert signed_in_user(client) is None
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "La connexion avec ProConnect a échoué" in page.content.decode()


# The request to the provider ------------------------------------------------------------------


def test_the_button_sends_to_the_provider_with_state_nonce_and_proconnect_scopes(
    client, proconnect
):
    location = start(client, next_url="/diagnostics/")

    configuration = proconnect.configuration()
    assert location.startswith(configuration["authorization_endpoint"] + "?")
    params = query(location)
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["scope"] == SCOPES
    assert params["redirect_uri"] == "http://testserver" + reverse("proconnect_callback")
    assert len(params["state"]) >= 32 and len(params["nonce"]) >= 32
    states = client.session["oidc_states"]
    assert states[params["state"]]["nonce"] == params["nonce"]
    assert client.session["oidc_login_next"] == "/diagnostics/"


def test_the_next_page_must_be_on_this_site(client, proconnect):
    start(client, next_url="https://ailleurs.example.com/")

    assert client.session["oidc_login_next"] is None


def test_the_login_page_shows_the_button_with_its_next_page(client, proconnect):
    response = client.get(reverse("login") + "?next=/invitations/abc/")

    html = response.content.decode()
    assert "Se connecter avec ProConnect" in html
    assert f'href="{reverse("proconnect_login")}?next=/invitations/abc/"' in html
    assert 'name="password"' in html  # the password login stays


def test_without_settings_no_button_and_no_proconnect_pages(client, settings):
    settings.PROCONNECT_CLIENT_ID = ""

    assert "ProConnect" not in client.get(reverse("login")).content.decode()
    assert client.get(reverse("proconnect_login")).status_code == 404
    assert client.get(reverse("proconnect_callback") + "?code=x&state=y").status_code == 404


# First login, account creation --------------------------------------------------------------


def test_an_invited_persons_first_login_creates_the_account_and_its_organisation(
    client, proconnect, invitation
):
    _, link = invitation
    proconnect.set_user("sub-nadia", **claims())

    response = sign_in(client, proconnect, "sub-nadia", next_url=link)

    assert response.status_code == 302
    assert response["Location"] == link  # back to the invitation, to accept it
    user = signed_in_user(client)
    assert user is not None
    assert (user.username, user.email) == (NOUVELLE, NOUVELLE)
    assert (user.first_name, user.last_name) == ("Nadia", "Benali")
    assert not user.has_usable_password()
    profil = Profil.objects.select_related("organisation").get(compte=user)
    assert profil.proconnect_sub == "sub-nadia"
    assert profil.organisation.siret == SIRET
    assert profil.organisation.nom == "Commune de Montluçon"
    assert profil.organisation.nature == Organisation.Nature.AUTRE
    # The id_token is kept for the logout at the provider.
    assert client.session["oidc_id_token"].count(".") == 2

    # The invitation's page then gives the role.
    page = client.get(link)
    assert "Rejoindre le contrat" in page.content.decode()
    client.post(link)
    assert Membre.objects.filter(
        contrat=invitation[0].contrat, compte=user, role=Role.EQUIPE_VILLE.value
    ).exists()


def test_an_organisation_of_the_same_siret_is_reused(client, proconnect, invitation):
    existing = Organisation.objects.create(
        nom="Ville de Montluçon", nature=Organisation.Nature.COMMUNE, siret=SIRET
    )
    proconnect.set_user("sub-nadia", **claims())

    sign_in(client, proconnect, "sub-nadia")

    user = signed_in_user(client)
    assert Profil.objects.get(compte=user).organisation == existing
    assert Organisation.objects.filter(siret=SIRET).count() == 1


def test_without_a_label_the_organisation_is_named_after_its_siret(client, proconnect, invitation):
    proconnect.set_user("sub-nadia", **claims(organization_label=""))

    sign_in(client, proconnect, "sub-nadia")

    organisation = Profil.objects.get(compte=signed_in_user(client)).organisation
    assert organisation.nom == f"Organisation {SIRET}"


def test_someone_unknown_without_invitation_is_refused_and_no_account_created(
    client, proconnect, caplog
):
    proconnect.set_user("sub-inconnu", **claims(email="inconnu@ailleurs.fr"))
    accounts = User.objects.count()

    with caplog.at_level(logging.WARNING, logger="comptes.proconnect"):
        response = sign_in(client, proconnect, "sub-inconnu")

    assert response.status_code == 403
    html = response.content.decode()
    assert "Aucun compte" in html
    assert "n’est associé à cette adresse ProConnect" in html
    assert "demandez une invitation à l’administrateur de votre contrat de ville" in html
    assert User.objects.count() == accounts
    assert signed_in_user(client) is None
    assert not Organisation.objects.filter(siret=SIRET).exists()
    assert "inconnu@ailleurs.fr" in caplog.text


def test_an_expired_or_used_invitation_does_not_open_an_account(client, proconnect, invitation):
    used, _ = invitation
    used.acceptee_le = used.expire_le
    used.save()
    proconnect.set_user("sub-nadia", **claims())

    response = sign_in(client, proconnect, "sub-nadia")

    assert response.status_code == 403
    assert not User.objects.filter(email__iexact=NOUVELLE).exists()


def everyone(email):
    return True


def test_the_account_policy_is_a_setting(client, proconnect, settings):
    settings.PROCONNECT_ACCOUNT_POLICY = f"{__name__}.everyone"
    proconnect.set_user("sub-libre", **claims(email="libre@ville-exemple.fr"))

    sign_in(client, proconnect, "sub-libre")

    assert signed_in_user(client).email == "libre@ville-exemple.fr"


def test_a_pending_invitation_is_one_still_usable(invitation):
    pending, _ = invitation

    assert membres.has_pending_invitation(NOUVELLE.upper())
    assert not membres.has_pending_invitation("autre@ville-exemple.fr")
    assert not membres.has_pending_invitation("")
    pending.expire_le = pending.created_at
    pending.save()
    assert not membres.has_pending_invitation(NOUVELLE)


# Later logins, linking ---------------------------------------------------------------------


def test_a_second_login_finds_the_account_by_sub_even_with_a_new_email(
    client, proconnect, invitation
):
    proconnect.set_user("sub-nadia", **claims())
    sign_in(client, proconnect, "sub-nadia")
    first = signed_in_user(client)
    client.logout()

    proconnect.set_user(
        "sub-nadia", **claims(email="nadia.benali@agglo-exemple.fr", usual_name="Benali-Roy")
    )
    sign_in(client, proconnect, "sub-nadia")

    user = signed_in_user(client)
    assert user.pk == first.pk
    assert user.email == "nadia.benali@agglo-exemple.fr"  # names and e-mail follow ProConnect
    assert user.last_name == "Benali-Roy"
    assert User.objects.filter(profil__proconnect_sub="sub-nadia").count() == 1


def test_an_existing_password_account_is_linked_by_email_on_first_login(client, proconnect):
    existing = UserFactory(username="claire", email="Claire.Martin@Ville-Exemple.fr")
    proconnect.set_user("sub-claire", **claims(email="claire.martin@ville-exemple.fr"))

    response = sign_in(client, proconnect, "sub-claire")

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert signed_in_user(client).pk == existing.pk
    assert Profil.objects.get(compte=existing).proconnect_sub == "sub-claire"
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)  # the password login still works
    assert User.objects.filter(email__iexact="claire.martin@ville-exemple.fr").count() == 1


def test_an_inactive_account_is_not_signed_in(client, proconnect):
    UserFactory(username="parti", email="parti@ville-exemple.fr", is_active=False)
    proconnect.set_user("sub-parti", **claims(email="parti@ville-exemple.fr"))

    response = sign_in(client, proconnect, "sub-parti")

    assert_failed(response, client)


def test_userinfo_as_plain_json_is_accepted_too(client, proconnect, settings):
    settings.PROCONNECT_DISCOVERY_URL = proconnect.discovery_url("/json")
    existing = UserFactory(username="json", email="json@ville-exemple.fr")
    proconnect.set_user("sub-json", prefix="/json", **claims(email="json@ville-exemple.fr"))

    sign_in(client, proconnect, "sub-json")

    assert signed_in_user(client) == existing


# Refusals ----------------------------------------------------------------------------------


def test_a_wrong_state_is_refused(client, proconnect, invitation, caplog):
    proconnect.set_user("sub-nadia", **claims())
    location = proconnect.authorize(start(client), "sub-nadia")
    params = query(location)

    with caplog.at_level(logging.WARNING, logger="comptes.proconnect_views"):
        response = client.get(
            reverse("proconnect_callback"), {"code": params["code"], "state": "x" * 32}
        )

    assert_failed(response, client)
    assert "state" in caplog.text
    assert not User.objects.filter(email__iexact=NOUVELLE).exists()


def test_a_callback_from_a_browser_that_never_started_the_login_is_refused(
    client, proconnect, invitation
):
    other = type(client)()
    proconnect.set_user("sub-nadia", **claims())
    location = proconnect.authorize(start(other), "sub-nadia")

    response = client.get(callback_path(location))

    assert_failed(response, client)


def test_the_same_callback_url_serves_once(client, proconnect, invitation):
    proconnect.set_user("sub-nadia", **claims())
    location = proconnect.authorize(start(client), "sub-nadia")
    assert client.get(callback_path(location))["Location"] == reverse("home")
    client.logout()

    replay = client.get(callback_path(location))

    assert_failed(replay, client)


def test_a_used_code_is_refused_by_the_provider_even_with_a_fresh_state(
    client, proconnect, invitation, caplog
):
    proconnect.set_user("sub-nadia", **claims())
    first = proconnect.authorize(start(client), "sub-nadia")
    client.get(callback_path(first))  # the code is used here
    client.logout()
    fresh_state = query(start(client))["state"]  # a login started, with its own state

    with caplog.at_level(logging.WARNING, logger="comptes.proconnect_views"):
        response = client.get(
            reverse("proconnect_callback"),
            {"code": query(first)["code"], "state": fresh_state},
        )

    assert_failed(response, client)
    assert "invalid_grant" in caplog.text  # the provider said no


def test_an_expired_id_token_is_refused(client, proconnect, settings, caplog):
    """The provider under /perime issues id_tokens whose `exp` is an hour before their
    `iat` (a real token, really signed, really expired)."""
    settings.PROCONNECT_DISCOVERY_URL = proconnect.discovery_url("/perime")
    existing = UserFactory(username="perime", email="perime@ville-exemple.fr")
    proconnect.set_user("sub-perime", prefix="/perime", **claims(email=existing.email))

    with caplog.at_level(logging.WARNING, logger="comptes.proconnect_views"):
        response = sign_in(client, proconnect, "sub-perime")

    assert_failed(response, client)
    assert "expired" in caplog.text
    assert Profil.objects.get(compte=existing).proconnect_sub == ""


def test_a_code_returned_with_another_logins_state_fails_on_the_nonce(client, proconnect, caplog):
    """Two logins started in one browser: the code of the first, brought back with the
    second's state, carries the first's nonce in its id_token."""
    existing = UserFactory(username="nonce", email="nonce@ville-exemple.fr")
    proconnect.set_user("sub-nonce", **claims(email=existing.email))
    first = start(client)
    second = start(client)
    code = query(proconnect.authorize(first, "sub-nonce"))["code"]

    with caplog.at_level(logging.WARNING, logger="comptes.proconnect_views"):
        response = client.get(
            reverse("proconnect_callback"), {"code": code, "state": query(second)["state"]}
        )

    assert_failed(response, client)
    assert "Nonce" in caplog.text


def test_a_password_form_posted_with_a_code_does_not_sign_in_through_proconnect(client, proconnect):
    existing = UserFactory(username="cible", email="cible@ville-exemple.fr")
    proconnect.set_user("sub-cible", **claims(email=existing.email))
    params = query(proconnect.authorize(start(client), "sub-cible"))

    client.post(
        f"{reverse('login')}?code={params['code']}&state={params['state']}",
        {"username": "personne", "password": "faux"},
    )

    assert signed_in_user(client) is None


def test_the_providers_refusal_ends_on_the_failure_page(client, proconnect):
    params = query(start(client))

    response = client.get(
        reverse("proconnect_callback"),
        {"error": "access_denied", "state": params["state"]},
    )

    assert_failed(response, client)
    assert params["state"] not in client.session["oidc_states"]


def test_an_unreachable_provider_ends_on_the_failure_page(client, settings):
    settings.PROCONNECT_CLIENT_ID = CLIENT_ID
    settings.PROCONNECT_CLIENT_SECRET = CLIENT_SECRET
    settings.PROCONNECT_DISCOVERY_URL = "http://127.0.0.1:9/.well-known/openid-configuration"
    settings.PROCONNECT_TIMEOUT = 2
    forget_provider()

    response = client.get(reverse("proconnect_login"))

    assert response.status_code == 302
    assert response["Location"] == reverse("proconnect_echec")


# Logout ------------------------------------------------------------------------------------


def test_logout_ends_the_session_then_sends_to_the_providers_end_session(
    client, proconnect, invitation
):
    proconnect.set_user("sub-nadia", **claims())
    sign_in(client, proconnect, "sub-nadia")
    id_token = client.session["oidc_id_token"]

    response = client.post(reverse("logout"))

    assert signed_in_user(client) is None
    # A page of ours goes on to ProConnect (refresh and link), not a redirection of the
    # logout form, which the Content Security Policy's form-action would check.
    assert response.status_code == 200
    html = response.content.decode()
    refresh = re.search(r'<meta http-equiv="refresh" content="0;url=([^"]+)">', html)
    assert refresh is not None
    url = unescape(refresh.group(1))
    assert f'href="{refresh.group(1)}"' in html
    end_session = proconnect.configuration()["end_session_endpoint"]
    assert url.startswith(end_session + "?")
    params = query(url)
    assert params["id_token_hint"] == id_token
    assert params["post_logout_redirect_uri"] == "http://testserver" + reverse("home")
    assert len(params["state"]) >= 32


def test_the_content_security_policy_is_unchanged_by_proconnect(client, proconnect):
    response = client.get(reverse("login"))

    policy = response["Content-Security-Policy"]
    assert "form-action 'self';" in policy or policy.endswith("form-action 'self'")
    assert proconnect.url not in policy


def test_a_password_session_logs_out_as_before(client, proconnect):
    user = UserFactory()
    client.force_login(user)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert signed_in_user(client) is None


def test_the_password_login_still_works_with_proconnect_configured(client, proconnect):
    user = UserFactory(username="mot-de-passe")

    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})

    assert response.status_code == 302
    assert signed_in_user(client) == user
