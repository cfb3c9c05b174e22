"""Accounts: the admin is the national administrator's, passwords go through Django's
validators, sessions end after a period of inactivity."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.asserts import assertContains, assertNotContains

from comptes import second_factor
from comptes.middleware import ACTIVITY_KEY
from comptes.roles import Role
from tests.factories import PASSWORD, DiagnosticFactory, UserFactory

# The admin -------------------------------------------------------------------------------


def contract_member(role, **kwargs):
    """An account holding `role` on a contract of its own (None: no role at all)."""
    contrat = DiagnosticFactory().contrat if role else None
    return UserFactory(role=role, contrat=contrat, **kwargs)


@pytest.mark.parametrize(
    ("role", "is_staff", "is_superuser", "enters"),
    [
        (None, True, True, True),  # the national administrator
        (None, False, True, True),  # the superuser flag, not the is_staff flag
        (Role.ADMINISTRATEUR, True, False, False),  # a contract's: works in the site
        (Role.ADMINISTRATEUR, False, False, False),
        (Role.EQUIPE_VILLE, True, False, False),
        (Role.PARTENAIRE, True, False, False),
        (None, True, False, False),
    ],
)
def test_only_the_national_administrator_enters_the_admin(
    client, role, is_staff, is_superuser, enters
):
    client.force_login(contract_member(role, is_staff=is_staff, is_superuser=is_superuser))

    response = client.get("/admin/")

    if enters:
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert response["Location"] == "/admin/login/?next=/admin/"


def test_an_inactive_superuser_does_not_enter_the_admin(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    user.is_active = False
    user.save()

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"


def sign_in_for_the_admin(client, user):
    """Through the admin's login, which is the site's (comptes.admin_site): the password,
    then, for who is asked one, the second factor (here one of their recovery codes)."""
    if second_factor.asks_second_factor(user):
        TOTPDevice.objects.create(user=user, name="Téléphone", confirmed=True)
        code = second_factor.new_recovery_codes(user)[0]
    else:
        code = None
    login_page = client.get("/admin/login/?next=/admin/")
    assert login_page.status_code == 302
    response = client.post(
        login_page["Location"], {"username": user.username, "password": PASSWORD}
    )
    if code is not None:
        response = client.post(reverse("second_factor"), {"code": code})
    return response


@pytest.mark.parametrize("role", [Role.EQUIPE_VILLE, Role.ADMINISTRATEUR])
def test_a_contract_member_cannot_sign_in_to_the_admin_even_as_staff(client, role):
    user = contract_member(role, is_staff=True)

    response = sign_in_for_the_admin(client, user)

    assert response.status_code == 302  # signed in to the site…
    assert client.session[SESSION_KEY] == str(user.pk)
    response = client.get("/admin/")  # …but not let into the admin
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"
    assert client.get(response["Location"]).status_code == 403


def test_the_national_administrator_signs_in_to_the_admin(client):
    user = UserFactory(is_superuser=True)

    response = sign_in_for_the_admin(client, user)

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_administration_link_shows_only_for_the_national_administrator(client):
    client.force_login(contract_member(Role.EQUIPE_VILLE, is_staff=True))
    assertNotContains(client.get(reverse("accessibilite")), "Administration</a>")

    client.force_login(contract_member(Role.ADMINISTRATEUR, is_staff=True))
    assertNotContains(client.get(reverse("accessibilite")), "Administration</a>")

    client.force_login(UserFactory(is_superuser=True))
    assertContains(client.get(reverse("accessibilite")), "Administration</a>")


# Passwords -------------------------------------------------------------------------------


def test_django_password_validators_are_on():
    names = [
        validator["NAME"].rsplit(".", 1)[-1] for validator in settings.AUTH_PASSWORD_VALIDATORS
    ]
    assert names == [
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    ]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("4827", "Ce mot de passe est trop court"),
        ("12345678", "Ce mot de passe est trop courant"),
        ("48273619054", "Ce mot de passe est entièrement numérique"),
        ("claire.martin", "Le mot de passe est trop semblable au champ"),
    ],
)
def test_a_weak_new_password_is_refused_in_french(client, password, message):
    user = UserFactory(username="claire.martin")
    client.force_login(user)

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": password, "new_password2": password},
    )

    assertContains(response, message)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# Sessions --------------------------------------------------------------------------------


def session_row(client):
    return Session.objects.get(session_key=client.session.session_key)


def test_sessions_last_two_hours_of_inactivity_by_default():
    assert settings.SESSION_COOKIE_AGE == 2 * 60 * 60
    assert not settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.SESSION_ACTIVITY_REFRESH < settings.SESSION_COOKIE_AGE


def test_an_idle_session_is_signed_out(client):
    diagnostic = DiagnosticFactory(brouillon=True)
    client.force_login(UserFactory(role=Role.EQUIPE_VILLE, contrat=diagnostic.contrat))
    assert client.get(diagnostic.get_absolute_url()).status_code == 200

    # SESSION_COOKIE_AGE later, with no request in between.
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    response = client.get(diagnostic.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_activity_pushes_the_end_of_the_session_back(client):
    client.force_login(contract_member(Role.EQUIPE_VILLE))
    # The last recorded activity was longer ago than the refresh period: the session
    # would end in ten minutes.
    session = client.session
    session[ACTIVITY_KEY] = int(time.time()) - settings.SESSION_ACTIVITY_REFRESH - 1
    session.save()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() + timedelta(minutes=10)
    )

    client.get(reverse("accessibilite"))

    remaining = session_row(client).expire_date - timezone.now()
    assert remaining > timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)


def test_requests_within_the_refresh_period_do_not_rewrite_the_session(
    client, django_assert_num_queries
):
    client.force_login(contract_member(Role.EQUIPE_VILLE))
    client.get(reverse("accessibilite"))
    expires = session_row(client).expire_date

    # The session, the user and the user's roles (3 queries), and no write.
    with django_assert_num_queries(3):
        client.get(reverse("accessibilite"))

    assert session_row(client).expire_date == expires


def test_signing_in_through_the_form_records_the_activity(client):
    user = UserFactory()
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})

    assert abs(client.session[ACTIVITY_KEY] - time.time()) < 60
