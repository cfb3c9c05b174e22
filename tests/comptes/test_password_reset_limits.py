"""Password reset requests are limited per e-mail address and per client address, with the
same answer whether an account exists or not; new passwords need 12 characters and must
not be common ones."""

import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from pytest_django.asserts import assertContains

from comptes.models import DemandeReinitialisation
from comptes.throttling import reset_limits
from tests.factories import PASSWORD, UserFactory

TOO_MANY = "Trop de demandes de réinitialisation du mot de passe"
OFFICE, HOME = "203.0.113.10", "198.51.100.7"


def ask(client, email, address=OFFICE):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=address)


@pytest.fixture
def claire():
    return UserFactory(username="claire.martin", email="claire.martin@montlucon.example")


def test_reset_requests_for_one_account_are_limited(client, claire):
    per_email, _, _ = reset_limits()
    for index in range(per_email):
        response = ask(client, "claire.martin@montlucon.example", address=f"198.51.100.{index}")
        assert response.status_code == 302
    assert len(mail.outbox) == per_email

    response = ask(client, "Claire.Martin@montlucon.example", address=HOME)

    assertContains(response, TOO_MANY)
    assert len(mail.outbox) == per_email


def test_the_refusal_does_not_reveal_whether_the_account_exists(client, claire):
    per_email, _, _ = reset_limits()
    pages = {}
    for email in ("claire.martin@montlucon.example", "personne@montlucon.example"):
        for index in range(per_email):
            assert ask(client, email, address=f"198.51.100.{index}").status_code == 302
        response = ask(client, email, address=HOME)
        page = response.content.decode().replace(email, "EMAIL")
        pages[email] = re.sub(r'(value|nonce)="[^"]*"', "", page)
        assert response.status_code == 200
    assert pages["claire.martin@montlucon.example"] == pages["personne@montlucon.example"]
    assert TOO_MANY in pages["personne@montlucon.example"]


def test_reset_requests_from_one_address_are_limited(client, claire):
    _, per_address, _ = reset_limits()
    for index in range(per_address):
        assert ask(client, f"inconnu{index}@montlucon.example").status_code == 302

    response = ask(client, "claire.martin@montlucon.example")

    assertContains(response, TOO_MANY)
    assert mail.outbox == []
    # Another address may still ask.
    assert ask(client, "claire.martin@montlucon.example", address=HOME).status_code == 302
    assert len(mail.outbox) == 1


def test_refused_requests_are_not_kept(client, claire):
    per_email, _, _ = reset_limits()
    for index in range(per_email + 3):
        ask(client, "claire.martin@montlucon.example", address=f"198.51.100.{index}")
    assert DemandeReinitialisation.objects.count() == per_email


@pytest.mark.parametrize("password", ["Quartiers-24", "motdepasse-1"])
def test_passwords_need_twelve_characters(password):
    with pytest.raises(ValidationError) as error:
        validate_password(password[:11])
    assert "Ce mot de passe est trop court" in " ".join(error.value.messages)
    validate_password(password)


def test_common_passwords_are_refused():
    with pytest.raises(ValidationError) as error:
        validate_password("password1234")
    assert "trop courant" in " ".join(error.value.messages)


def test_an_eleven_character_new_password_is_refused(client):
    user = UserFactory(username="claire.martin")
    client.force_login(user)

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "Quartiers-2", "new_password2": "Quartiers-2"},
    )

    assertContains(response, "Ce mot de passe est trop court")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
