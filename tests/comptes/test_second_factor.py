"""The second factor of password logins (comptes.second_factor): an Administrateur of a
contract, and the national administrator, type a code of their authenticator app (set up
in the site, with recovery codes) after their password; the others sign in as before."""

import re
import time
from base64 import b32encode

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from comptes import second_factor
from comptes.models import EchecConnexion
from comptes.roles import Role
from tests.factories import PASSWORD, DiagnosticFactory, UserFactory

LOGIN = reverse("login")
CODE_URL = reverse("second_factor")
ACTIVATION_URL = reverse("second_factor_activation")
ACCOUNT_URL = reverse("second_factor_account")
WRONG_CODE = "Ce code n’est pas valable"
LOCKED = "Trop de tentatives de connexion ont échoué pour ce compte ou depuis cette adresse"
WRONG_PASSWORD = "Saisissez un nom d’utilisateur et un mot de passe valides"
OFFICE = "203.0.113.10"
BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture(autouse=True)
def _no_device_delay(settings):
    """django-otp makes a device wait 1, 2, 4… seconds after wrong codes; the tests type
    a right code right after a wrong one (the delay has its own test)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


@pytest.fixture
def diagnostic():
    return DiagnosticFactory()


@pytest.fixture
def administrateur(diagnostic):
    return UserFactory(username="paul.admin", role=Role.ADMINISTRATEUR, contrat=diagnostic.contrat)


@pytest.fixture
def device(administrateur):
    """Paul's authenticator, set up earlier."""
    return TOTPDevice.objects.create(user=administrateur, name="Téléphone", confirmed=True)


@pytest.fixture
def recovery_codes(administrateur, device):
    return second_factor.new_recovery_codes(administrateur)


def code_of(device, steps=0):
    """The code the authenticator shows now (or `steps` periods later)."""
    return f"{totp(device.bin_key, step=device.step, digits=device.digits, drift=steps):06d}"


def sign_in(client, user, password=PASSWORD, next_url=None, **extra):
    data = {"username": user.get_username(), "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post(LOGIN, data, REMOTE_ADDR=OFFICE, **extra)


def type_code(client, code, url=CODE_URL):
    return client.post(url, {"code": code}, REMOTE_ADDR=OFFICE)


def signed_in(client):
    return SESSION_KEY in client.session


def verified(client):
    return DEVICE_ID_SESSION_KEY in client.session


def shown_secret(response):
    """The key the activation page gives in text, as an authenticator would read it."""
    match = re.search(r'<code class="cle-secrete"[^>]*>([A-Z2-7 ]+)</code>', response.text)
    return match.group(1).replace(" ", "")


def shown_codes(response):
    return re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.text)


# Setting up the authenticator at the first login ----------------------------------------


def test_an_administrateur_without_authenticator_sets_one_up_before_being_signed_in(
    client, administrateur
):
    response = sign_in(client, administrateur, next_url="/accessibilite/")

    assertRedirects(response, ACTIVATION_URL, fetch_redirect_response=False)
    assert not signed_in(client)

    page = client.get(ACTIVATION_URL)
    assertContains(page, "Configurer le second facteur")
    assertContains(page, '<svg class="qr-code-image" role="img"')
    device = TOTPDevice.objects.get(user=administrateur)
    assert not device.confirmed
    assert shown_secret(page) == b32encode(device.bin_key).decode().rstrip("=")
    assert client.get(ACTIVATION_URL).context["cle"] == page.context["cle"]  # the same device
    assert not signed_in(client)

    response = type_code(client, code_of(device), url=ACTIVATION_URL)

    assert response.status_code == 200
    assertContains(response, "Vos codes de secours")
    codes = shown_codes(response)
    assert len(codes) == 10 == len(set(codes))
    assert set(
        StaticToken.objects.filter(device__user=administrateur).values_list("token", flat=True)
    ) == set(codes)
    assertContains(response, 'href="/accessibilite/">Je les ai notés</a>')
    device.refresh_from_db()
    assert device.confirmed
    assert signed_in(client) and verified(client)
    assert client.get("/accessibilite/").wsgi_request.user.is_verified()


def test_a_wrong_first_code_does_not_confirm_the_authenticator(client, administrateur):
    sign_in(client, administrateur)
    client.get(ACTIVATION_URL)
    device = TOTPDevice.objects.get(user=administrateur)

    response = type_code(
        client, "000000" if code_of(device) != "000000" else "111111", ACTIVATION_URL
    )

    assertContains(response, WRONG_CODE)
    assert response.context["form"]["code"].errors
    device.refresh_from_db()
    assert not device.confirmed
    assert not signed_in(client)
    assert not StaticDevice.objects.filter(user=administrateur).exists()


def test_who_has_an_authenticator_cannot_set_up_another_without_a_code(
    client, administrateur, device
):
    sign_in(client, administrateur)

    assertRedirects(client.get(ACTIVATION_URL), CODE_URL, fetch_redirect_response=False)
    assert list(TOTPDevice.objects.filter(user=administrateur)) == [device]


# Signing in with a code ------------------------------------------------------------------


def test_the_next_login_asks_the_code(client, administrateur, device):
    response = sign_in(client, administrateur, next_url="/accessibilite/")

    assertRedirects(response, CODE_URL, fetch_redirect_response=False)
    assert not signed_in(client)
    page = client.get(CODE_URL)
    assertContains(
        page,
        "Code à 6 chiffres de votre application d’authentification, ou un code de secours",
    )

    response = type_code(client, code_of(device))

    assertRedirects(response, "/accessibilite/", fetch_redirect_response=False)
    assert signed_in(client) and verified(client)
    assert client.session[SESSION_KEY] == str(administrateur.pk)


def test_a_wrong_code_is_refused_in_french_and_counted(client, administrateur, device):
    sign_in(client, administrateur)
    wrong = "000000" if code_of(device) != "000000" else "111111"

    response = type_code(client, wrong)

    assert response.status_code == 200
    assertContains(response, WRONG_CODE)
    assertContains(response, "Le formulaire contient une erreur")
    assert not signed_in(client)
    assert EchecConnexion.objects.filter(identifiant="paul.admin").count() == 1
    device.refresh_from_db()
    assert device.throttling_failure_count == 1

    assertRedirects(
        type_code(client, code_of(device)), reverse("home"), fetch_redirect_response=False
    )
    assert signed_in(client)
    assert not EchecConnexion.objects.filter(identifiant="paul.admin").exists()


def test_a_code_is_not_accepted_twice(client, administrateur, device):
    code = code_of(device)
    sign_in(client, administrateur)
    type_code(client, code)
    client.logout()

    sign_in(client, administrateur)
    response = type_code(client, code)

    assertContains(response, WRONG_CODE)
    assert not signed_in(client)


def test_wrong_codes_lock_the_account_like_wrong_passwords(client, administrateur, device):
    wrong = "000000" if code_of(device) != "000000" else "111111"
    sign_in(client, administrateur)
    for _ in range(5):
        assertContains(type_code(client, wrong), WRONG_CODE)

    response = type_code(client, code_of(device))

    assertContains(response, LOCKED)
    assert not signed_in(client)
    assertContains(sign_in(client, administrateur), LOCKED)


def test_the_device_makes_one_wait_after_wrong_codes(client, administrateur, device, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    wrong = "000000" if code_of(device) != "000000" else "111111"
    sign_in(client, administrateur)
    type_code(client, wrong)

    response = type_code(client, code_of(device))

    assertContains(response, "patientez quelques secondes")
    assert not signed_in(client)


def test_a_recovery_code_works_once(client, administrateur, recovery_codes):
    sign_in(client, administrateur)
    response = type_code(client, f" {recovery_codes[0][:4].upper()}-{recovery_codes[0][4:]} ")

    assertRedirects(response, reverse("home"), fetch_redirect_response=False)
    assert signed_in(client) and verified(client)
    assert StaticToken.objects.filter(device__user=administrateur).count() == 9

    client.logout()
    sign_in(client, administrateur)
    response = type_code(client, recovery_codes[0])

    assertContains(response, WRONG_CODE)
    assert not signed_in(client)
    assertRedirects(
        type_code(client, recovery_codes[1]), reverse("home"), fetch_redirect_response=False
    )


def test_the_pending_login_expires_after_five_minutes(client, administrateur, device):
    sign_in(client, administrateur)
    session = client.session
    state = session[second_factor.PENDING_KEY]
    state["since"] = time.time() - 5 * 60 - 1
    session[second_factor.PENDING_KEY] = state
    session.save()

    response = type_code(client, code_of(device))

    assertRedirects(response, LOGIN, fetch_redirect_response=False)
    assert not signed_in(client)
    page = client.get(LOGIN)
    assertContains(page, "Le délai pour saisir le second facteur est dépassé")
    assertRedirects(client.get(CODE_URL), LOGIN, fetch_redirect_response=False)


def test_an_expired_pending_login_says_so_on_the_next_page_too(client, administrateur):
    sign_in(client, administrateur)
    session = client.session
    session[second_factor.PENDING_KEY] = {
        **session[second_factor.PENDING_KEY],
        "since": time.time() - 5 * 60 - 1,
    }
    session.save()

    response = client.get(ACTIVATION_URL, follow=True)

    assertRedirects(response, LOGIN)
    assertContains(response, "Le délai pour saisir le second facteur est dépassé")
    assert not TOTPDevice.objects.exists()


def test_signing_in_as_someone_else_drops_the_pending_login(
    client, diagnostic, administrateur, device
):
    sign_in(client, administrateur)
    other = UserFactory(role=Role.PARTENAIRE, contrat=diagnostic.contrat)

    sign_in(client, other)

    assert client.session[SESSION_KEY] == str(other.pk)
    assert second_factor.PENDING_KEY not in client.session
    client.logout()
    assertRedirects(type_code(client, code_of(device)), LOGIN, fetch_redirect_response=False)


def test_without_a_pending_login_the_code_page_sends_to_the_login(client, device):
    assertRedirects(client.get(CODE_URL), LOGIN, fetch_redirect_response=False)
    assertRedirects(client.get(ACTIVATION_URL), LOGIN, fetch_redirect_response=False)
    assert not TOTPDevice.objects.filter(confirmed=False).exists()


def test_an_unsafe_next_is_not_followed(client, administrateur, device):
    sign_in(client, administrateur, next_url="https://ailleurs.example/")

    response = type_code(client, code_of(device))

    assertRedirects(response, reverse("home"), fetch_redirect_response=False)


@pytest.mark.parametrize(
    "state",
    [
        "n’importe quoi",
        None,
        [],
        {"user": "x", "since": "y", "backend": 1, "next": 2},
        {"user": 10**30, "since": 1e309, "backend": "x", "next": ""},
        {"user": 999_999, "since": "now", "backend": None, "next": None},
        {"user": 10**30, "since": time.time(), "backend": BACKEND, "next": ""},
        {"user": -1, "since": time.time(), "backend": BACKEND, "next": ""},
        {"user": 999_999, "since": time.time(), "backend": BACKEND, "next": ""},
        {"user": "1", "since": time.time(), "backend": BACKEND, "next": ["/"]},
    ],
)
def test_tampered_session_data_sends_back_to_the_login(client, administrateur, device, state):
    sign_in(client, administrateur)
    session = client.session
    session[second_factor.PENDING_KEY] = state
    session[second_factor.ACTIVATION_KEY] = "pas un nombre"
    session.save()

    for url in (CODE_URL, ACTIVATION_URL):
        assertRedirects(client.get(url), LOGIN, fetch_redirect_response=False)
    assertRedirects(type_code(client, code_of(device)), LOGIN, fetch_redirect_response=False)
    assert not signed_in(client)


def test_a_pending_state_with_another_backend_signs_no_one_in(client, administrateur, device):
    sign_in(client, administrateur)
    session = client.session
    state = session[second_factor.PENDING_KEY]
    state["backend"] = "ailleurs.Backend"
    session[second_factor.PENDING_KEY] = state
    session.save()

    assertRedirects(type_code(client, code_of(device)), LOGIN, fetch_redirect_response=False)
    assert not signed_in(client)


@pytest.mark.parametrize("code", ["12\x0034", "\x00", "1" * 65, "é" * 6, "<script>"])
def test_odd_codes_are_refused_without_error(client, administrateur, device, code):
    sign_in(client, administrateur)

    response = type_code(client, code)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not signed_in(client)
    response = type_code(client, code, url=ACTIVATION_URL)
    assert response.status_code == 302


def test_a_nul_byte_in_the_first_code_is_refused_without_error(client, administrateur):
    sign_in(client, administrateur)

    response = type_code(client, "12\x003456", url=ACTIVATION_URL)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not signed_in(client)


# Who needs it ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.EQUIPE_VILLE, Role.PARTENAIRE])
def test_the_other_roles_sign_in_with_the_password_alone(client, diagnostic, role):
    user = UserFactory(role=role, contrat=diagnostic.contrat)

    response = sign_in(client, user, next_url="/accessibilite/")

    assertRedirects(response, "/accessibilite/", fetch_redirect_response=False)
    assert signed_in(client)
    assert not verified(client)
    assert not TOTPDevice.objects.exists()


def test_a_user_without_any_role_signs_in_with_the_password_alone(client):
    user = UserFactory()

    assertRedirects(sign_in(client, user), reverse("home"), fetch_redirect_response=False)
    assert signed_in(client)


def test_the_national_administrator_needs_it_too(client):
    sophie = UserFactory(username="sophie", is_superuser=True, is_staff=True)

    assertRedirects(sign_in(client, sophie), ACTIVATION_URL, fetch_redirect_response=False)
    assert not signed_in(client)


def test_a_user_who_set_up_an_authenticator_is_asked_for_it(client, diagnostic):
    user = UserFactory(role=Role.EQUIPE_VILLE, contrat=diagnostic.contrat)
    TOTPDevice.objects.create(user=user, confirmed=True)

    assertRedirects(sign_in(client, user), CODE_URL, fetch_redirect_response=False)
    assert not signed_in(client)


def test_an_inactive_pending_user_is_not_signed_in(client, administrateur, device):
    sign_in(client, administrateur)
    administrateur.is_active = False
    administrateur.save()

    assertRedirects(type_code(client, code_of(device)), LOGIN, fetch_redirect_response=False)
    assert not signed_in(client)


def test_force_login_bypasses_it(client, administrateur):
    client.force_login(administrateur)

    assert client.get(reverse("accessibilite")).status_code == 200


# The admin -------------------------------------------------------------------------------


def test_the_admin_login_is_the_sites(client):
    response = client.get("/admin/login/?next=/admin/diagnostics/")

    assertRedirects(response, f"{LOGIN}?next=/admin/diagnostics/", fetch_redirect_response=False)
    assertRedirects(
        client.get("/admin/"), "/admin/login/?next=/admin/", fetch_redirect_response=False
    )
    assertRedirects(
        client.get("/admin/login/"), f"{LOGIN}?next=/admin/", fetch_redirect_response=False
    )


def test_a_password_posted_to_the_admin_login_signs_no_one_in(client):
    sophie = UserFactory(username="sophie", is_superuser=True, is_staff=True)

    response = client.post("/admin/login/", {"username": "sophie", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert not signed_in(client)
    assert sophie.is_superuser


def test_the_national_administrator_enters_the_admin_after_the_second_factor(client):
    sophie = UserFactory(username="sophie", is_superuser=True, is_staff=True)
    device = TOTPDevice.objects.create(user=sophie, confirmed=True)

    sign_in(client, sophie, next_url="/admin/")
    response = type_code(client, code_of(device))

    assertRedirects(response, "/admin/", fetch_redirect_response=False)
    assert client.get("/admin/").status_code == 200


def test_a_signed_in_user_who_may_not_enter_the_admin_is_refused(client, administrateur):
    client.force_login(administrateur)

    assert client.get("/admin/login/?next=/admin/").status_code == 403


def test_the_admin_never_shows_a_devices_secret(client, device):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))

    response = client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))

    assert response.status_code == 200
    assertNotContains(response, device.key)


def test_the_admin_never_shows_recovery_codes(client, administrateur, recovery_codes):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    static = StaticDevice.objects.get(user=administrateur)

    for url in (
        reverse("admin:otp_static_staticdevice_change", args=[static.pk]),
        reverse("admin:otp_static_staticdevice_changelist"),
        reverse("admin:otp_totp_totpdevice_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 200
        for code in recovery_codes:
            assertNotContains(response, code)


# Throttling of the password still applies ------------------------------------------------


def test_wrong_passwords_still_lock_the_account(client, administrateur, device):
    for _ in range(5):
        assertContains(sign_in(client, administrateur, password="faux"), WRONG_PASSWORD)

    response = sign_in(client, administrateur)

    assertContains(response, LOCKED)
    assert second_factor.PENDING_KEY not in client.session
    assertRedirects(client.get(CODE_URL), LOGIN, fetch_redirect_response=False)


def test_the_right_password_alone_does_not_clear_the_failures(client, administrateur, device):
    for _ in range(2):
        sign_in(client, administrateur, password="faux")

    sign_in(client, administrateur)

    assert EchecConnexion.objects.filter(identifiant="paul.admin").count() == 2
    type_code(client, code_of(device))
    assert not EchecConnexion.objects.exists()


# The account page ------------------------------------------------------------------------


def test_the_account_page_needs_a_signed_in_user(client):
    response = client.get(ACCOUNT_URL)

    assertRedirects(response, f"{LOGIN}?next={ACCOUNT_URL}", fetch_redirect_response=False)


def test_the_account_page_shows_the_state(client, administrateur, device, recovery_codes):
    client.force_login(administrateur)

    response = client.get(ACCOUNT_URL)

    assertContains(response, "Le second facteur de votre compte est actif")
    assertContains(response, "<dd>10</dd>", html=True)
    assertContains(response, 'id="id_codes_code"')
    assertContains(response, 'id="id_application_code"')


def test_the_account_page_without_authenticator(client, administrateur):
    client.force_login(administrateur)

    response = client.get(ACCOUNT_URL)

    assertContains(response, "n’est pas encore configuré")
    assertContains(response, f'href="{ACTIVATION_URL}"')


def test_new_recovery_codes_after_a_current_code(client, administrateur, device, recovery_codes):
    client.force_login(administrateur)
    wrong = client.post(ACCOUNT_URL, {"action": "codes", "code": "abcdefgh"})
    assertContains(wrong, WRONG_CODE)
    assert set(second_factor_tokens(administrateur)) == set(recovery_codes)

    response = client.post(ACCOUNT_URL, {"action": "codes", "code": code_of(device)})

    new = shown_codes(response)
    assert len(new) == 10
    assert set(second_factor_tokens(administrateur)) == set(new)
    assert not set(new) & set(recovery_codes)
    assertContains(response, f'href="{ACCOUNT_URL}">Je les ai notés</a>')


def second_factor_tokens(user):
    return StaticToken.objects.filter(device__user=user).values_list("token", flat=True)


def test_a_new_authenticator_replaces_the_old_once_confirmed(client, administrateur, device):
    client.force_login(administrateur)
    assertRedirects(client.get(ACTIVATION_URL), ACCOUNT_URL, fetch_redirect_response=False)

    response = client.post(ACCOUNT_URL, {"action": "application", "code": code_of(device)})

    assertRedirects(response, ACTIVATION_URL, fetch_redirect_response=False)
    page = client.get(ACTIVATION_URL)
    assertContains(page, "elle remplacera l’actuelle")
    new = TOTPDevice.objects.get(user=administrateur, confirmed=False)
    assert TOTPDevice.objects.filter(pk=device.pk, confirmed=True).exists()  # still valid

    response = type_code(client, code_of(new), url=ACTIVATION_URL)

    assert len(shown_codes(response)) == 10
    assert list(TOTPDevice.objects.filter(user=administrateur)) == [new]
    assert verified(client)
    assertRedirects(client.get(ACTIVATION_URL), ACCOUNT_URL, fetch_redirect_response=False)


def test_the_account_pages_forms_are_throttled(client, administrateur, device):
    client.force_login(administrateur)
    for _ in range(5):
        client.post(ACCOUNT_URL, {"action": "application", "code": "00000a"}, REMOTE_ADDR=OFFICE)

    response = client.post(
        ACCOUNT_URL, {"action": "application", "code": code_of(device)}, REMOTE_ADDR=OFFICE
    )

    assertContains(response, LOCKED)
    assert second_factor.RESET_KEY not in client.session
