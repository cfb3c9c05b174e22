"""Accounts: the admin is the Administrateur role's, passwords go through Django's
validators, sessions end after a period of inactivity."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from comptes.middleware import ACTIVITY_KEY
from comptes.roles import Role
from tests.factories import PASSWORD, DiagnosticFactory, UserFactory

# The admin -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "is_staff", "is_superuser", "enters"),
    [
        (Role.ADMINISTRATEUR, True, False, True),
        (Role.ADMINISTRATEUR, False, False, True),  # the role, not the is_staff flag
        (None, True, True, True),  # superusers hold the Administrateur role
        (Role.EQUIPE_VILLE, True, False, False),
        (Role.PARTENAIRE, True, False, False),
        (None, True, False, False),
    ],
)
def test_only_the_administrateur_role_enters_the_admin(
    client, role, is_staff, is_superuser, enters
):
    client.force_login(UserFactory(role=role, is_staff=is_staff, is_superuser=is_superuser))

    response = client.get("/admin/")

    if enters:
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert response["Location"] == "/admin/login/?next=/admin/"


def test_the_city_team_cannot_sign_in_to_the_admin_even_as_staff(client):
    user = UserFactory(role=Role.EQUIPE_VILLE, is_staff=True)

    response = client.post(
        "/admin/login/?next=/admin/", {"username": user.username, "password": PASSWORD}
    )

    assert response.status_code == 200
    assertContains(response, "Veuillez compléter correctement les champs")
    assert client.get("/admin/").status_code == 302


def test_an_administrateur_signs_in_to_the_admin(client):
    user = UserFactory(role=Role.ADMINISTRATEUR)

    response = client.post(
        "/admin/login/?next=/admin/", {"username": user.username, "password": PASSWORD}
    )

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_administration_link_shows_only_for_administrateurs(client):
    client.force_login(UserFactory(role=Role.EQUIPE_VILLE, is_staff=True))
    assertNotContains(client.get(reverse("accessibilite")), "Administration</a>")

    client.force_login(UserFactory(role=Role.ADMINISTRATEUR))
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
    client.force_login(UserFactory(role=Role.EQUIPE_VILLE))
    assert client.get(diagnostic.get_absolute_url()).status_code == 200

    # SESSION_COOKIE_AGE later, with no request in between.
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )

    response = client.get(diagnostic.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_activity_pushes_the_end_of_the_session_back(client):
    client.force_login(UserFactory(role=Role.EQUIPE_VILLE))
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
    client.force_login(UserFactory(role=Role.EQUIPE_VILLE))
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
