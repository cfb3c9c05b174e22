"""Parallel wrong passwords cannot exceed the lockout: the check and the record are one
step. Real threads, each with its own connection (PostgreSQL)."""

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from comptes.models import EchecConnexion
from tests.diagnostics.test_conflicts import (  # noqa: F401 (fixtures)
    _give_every_test_the_database,
    _leave_the_database_as_found,
    run_at_once,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads on real connections: PostgreSQL"
)

ATTEMPTS = 24
WRONG = "Saisissez un nom d’utilisateur et un mot de passe valides"
LOCKED = "Trop de tentatives de connexion ont échoué"


def test_parallel_wrong_passwords_check_no_more_than_the_limit(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    UserFactory(username="course.connexion")

    def sign_in(index):
        def operation():
            return Client().post(
                reverse("login"),
                {"username": "course.connexion", "password": f"mauvais-{index}"},
                REMOTE_ADDR=f"203.0.113.{index + 1}",
            )

        return operation

    responses = run_at_once([sign_in(index) for index in range(ATTEMPTS)])

    pages = [response.content.decode() for response in responses]
    checked = sum(WRONG in page for page in pages)
    refused = sum(LOCKED in page for page in pages)
    # Never more than the limit (attempts refused while others were being checked may
    # leave it not quite reached: the lock errs on the safe side).
    assert 1 <= checked <= settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT, (checked, refused)
    assert checked + refused == ATTEMPTS
    assert EchecConnexion.objects.count() == checked
