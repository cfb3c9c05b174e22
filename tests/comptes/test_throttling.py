"""Failed sign-ins are throttled per account and per address, through the real login
forms; an administrator unlocks. Time passes by moving the recorded failures back."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from comptes.models import EchecConnexion
from comptes.roles import Role
from tests.factories import PASSWORD, DiagnosticFactory, UserFactory

LOCKED = "Trop de tentatives de connexion ont échoué pour ce compte ou depuis cette adresse"
WRONG = "Saisissez un nom d’utilisateur et un mot de passe valides"
OFFICE, HOME = "203.0.113.10", "198.51.100.7"


def sign_in(client, username, password, address=OFFICE, url=None, **headers):
    return client.post(
        url or reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )


def signed_in(client):
    return SESSION_KEY in client.session


def fail(client, username, times, address=OFFICE):
    for _ in range(times):
        response = sign_in(client, username, "mauvais-mot-de-passe", address)
        assertContains(response, WRONG)


def time_passes(seconds):
    EchecConnexion.objects.update(date=timezone.now() - timedelta(seconds=seconds))


@pytest.fixture
def claire():
    return UserFactory(
        username="claire.martin", role=Role.PARTENAIRE, contrat=DiagnosticFactory().contrat
    )


def test_the_limits_are_settings():
    assert settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT == 5
    assert settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS == 20
    assert settings.LOGIN_FAILURE_WINDOW == 15 * 60


def test_an_account_is_locked_after_five_failures_even_for_the_right_password(client, claire):
    fail(client, "claire.martin", 5)

    response = sign_in(client, "claire.martin", PASSWORD)

    assertContains(response, LOCKED)
    assertContains(response, "Réessayez dans 15 minutes")
    assertContains(response, "demandez à un administrateur du site de débloquer l’accès")
    assertNotContains(response, WRONG)
    assert not signed_in(client)


def test_four_failures_do_not_lock(client, claire):
    fail(client, "claire.martin", 4)

    sign_in(client, "claire.martin", PASSWORD)

    assert signed_in(client)


def test_the_lock_holds_from_any_address_and_whatever_the_case(client, claire):
    fail(client, "claire.martin", 5, address=OFFICE)

    response = sign_in(client, "  Claire.Martin ", PASSWORD, address=HOME)

    assertContains(response, LOCKED)
    assert not signed_in(client)


def test_no_password_is_checked_while_locked(client, claire):
    fail(client, "claire.martin", 5)
    for _ in range(3):
        assertContains(sign_in(client, "claire.martin", "autre-essai"), LOCKED)

    # Refused attempts are not counted: the lock does not grow.
    assert EchecConnexion.objects.count() == 5


def test_an_unknown_account_name_is_locked_the_same_way(client):
    """The message does not tell whether the account exists."""
    fail(client, "personne", 5)

    assertContains(sign_in(client, "personne", PASSWORD), LOCKED)


def test_the_lock_ends_when_the_failures_leave_the_window(client, claire):
    fail(client, "claire.martin", 5)
    time_passes(10 * 60)
    assertContains(sign_in(client, "claire.martin", PASSWORD), "Réessayez dans 5 minutes")

    time_passes(15 * 60 + 1)
    sign_in(client, "claire.martin", PASSWORD)

    assert signed_in(client)


def test_signing_in_clears_the_accounts_failures(client, claire):
    fail(client, "claire.martin", 4)
    sign_in(client, "claire.martin", PASSWORD)
    client.post(reverse("logout"))

    fail(client, "claire.martin", 4)
    sign_in(client, "claire.martin", PASSWORD)

    assert signed_in(client)


def test_an_address_is_locked_after_twenty_failures_on_any_accounts(client, claire):
    for number in range(20):
        fail(client, f"essai{number}", 1, address=OFFICE)

    assertContains(sign_in(client, "claire.martin", PASSWORD, address=OFFICE), LOCKED)
    assert not signed_in(client)

    sign_in(client, "claire.martin", PASSWORD, address=HOME)
    assert signed_in(client)


def test_behind_the_reverse_proxy_the_address_is_the_one_the_proxy_saw(client, claire, settings):
    settings.REVERSE_PROXY = True
    for number in range(20):
        sign_in(
            client,
            f"essai{number}",
            "faux",
            address="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{number}, {OFFICE}",  # the first part is forgeable
        )

    assert set(EchecConnexion.objects.values_list("adresse_ip", flat=True)) == {OFFICE}
    response = sign_in(
        client, "claire.martin", PASSWORD, address="127.0.0.1", HTTP_X_FORWARDED_FOR=HOME
    )
    assert signed_in(client), response.content.decode()


def test_the_admin_login_is_throttled_too(client):
    # The admin's login is the site's (comptes.admin_site), and so is its lock.
    admin = UserFactory(username="admin.ville", is_superuser=True)  # the national admin
    login_url = client.get("/admin/login/?next=/admin/")["Location"]
    assert login_url == f"{reverse('login')}?next=/admin/"
    for _ in range(5):
        sign_in(client, admin.username, "faux", url=login_url)

    response = sign_in(client, admin.username, PASSWORD, url=login_url)

    assertContains(response, LOCKED)
    assert not signed_in(client)
    assert client.get("/admin/").status_code == 302


# Unlocking -------------------------------------------------------------------------------


def test_an_administrator_unlocks_an_account_and_its_address(client, claire):
    fail(client, "claire.martin", 5)
    for number in range(20):
        fail(client, f"essai{number}", 1, address=HOME)
    assertContains(sign_in(client, "claire.martin", PASSWORD), LOCKED)

    admin = Client()  # the administrator's own browser
    admin.force_login(UserFactory(is_superuser=True))  # the national administrator
    changelist = reverse("admin:comptes_echecconnexion_changelist")
    listing = admin.get(changelist)
    assertContains(listing, "claire.martin")
    assertContains(listing, "Débloquer les comptes et adresses des tentatives sélectionnées")
    selected = EchecConnexion.objects.filter(identifiant="claire.martin").first()

    response = admin.post(
        changelist,
        {"action": "debloquer", "_selected_action": [selected.pk]},
        follow=True,
    )

    assertContains(response, "Accès débloqué pour : claire.martin, 203.0.113.10.")
    assert not EchecConnexion.objects.filter(identifiant="claire.martin").exists()
    assert EchecConnexion.objects.filter(adresse_ip=HOME).count() == 20  # not selected
    sign_in(client, "claire.martin", PASSWORD)
    assert signed_in(client)


def test_the_failures_are_read_only_in_the_admin(client):
    EchecConnexion.objects.create(identifiant="claire.martin", adresse_ip=OFFICE)
    client.force_login(UserFactory(is_superuser=True))  # the national administrator
    echec = EchecConnexion.objects.get()

    assert client.get(reverse("admin:comptes_echecconnexion_add")).status_code == 403
    change = client.get(reverse("admin:comptes_echecconnexion_change", args=[echec.pk]))
    assert change.status_code == 200
    assertNotContains(change, 'name="identifiant"')


def test_old_failures_are_forgotten_after_a_month(client):
    EchecConnexion.objects.create(
        identifiant="ancien", adresse_ip=HOME, date=timezone.now() - timedelta(days=31)
    )

    fail(client, "claire.martin", 1)

    assert list(EchecConnexion.objects.values_list("identifiant", flat=True)) == ["claire.martin"]
