"""The error summary above the site's forms (templates/registration/_formulaire.html): it
names and links to each field in error, which is marked (aria-invalid, its message tied by
aria-describedby); an error of the whole form (a wrong identifier or password) is said as
it is, without claiming that a field is marked."""

import re

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def summary(page):
    match = re.search(r'<div class="erreurs-formulaire" role="alert">(.*?)</div>', page, re.S)
    assert match, "no error summary"
    return match.group(1)


def input_tag(page, name):
    return re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group()


def test_a_wrong_password_is_said_as_such_and_marks_no_field(client):
    UserFactory(username="claire")

    response = client.post(reverse("login"), {"username": "claire", "password": "faux"})

    page = response.content.decode()
    text = summary(page)
    assert "nom d’utilisateur et un mot de passe valides" in text
    assert "signalé" not in text and "ci-dessous" not in text
    for name in ("username", "password"):
        assert "aria-invalid" not in input_tag(page, name)


def test_a_missing_field_is_marked_and_linked_from_the_summary(client):
    response = client.post(reverse("login"), {"username": "claire", "password": ""})

    page = response.content.decode()
    text = summary(page)
    assert "Le formulaire contient une erreur : corrigez le champ signalé ci-dessous." in text
    assert re.search(r'<a href="#id_password">Mot de passe</a> : [^<]*obligatoire', text)
    field = input_tag(page, "password")
    assert 'aria-invalid="true"' in field
    described_by = re.search(r'aria-describedby="([^"]+)"', field).group(1).split()
    error_id = next(ident for ident in described_by if ident.endswith("_error"))
    assert re.search(rf'id="{error_id}"[^>]*>.*?obligatoire', page, re.S)
    assert "aria-invalid" not in input_tag(page, "username")


def test_two_missing_fields_are_both_linked(client):
    response = client.post(reverse("login"), {"username": "", "password": ""})

    text = summary(response.content.decode())
    assert "Le formulaire contient des erreurs : corrigez les champs signalés ci-dessous." in text
    assert re.findall(r'<a href="#(id_\w+)">', text) == ["id_username", "id_password"]


def test_the_right_password_still_signs_in(client):
    UserFactory(username="claire")

    response = client.post(reverse("login"), {"username": "claire", "password": PASSWORD})

    assert response.status_code == 302
