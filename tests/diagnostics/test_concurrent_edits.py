"""Concurrent edits seen from the pages: a deletion takes exactly what its confirmation
listed (or asks again), and saving an item a colleague deleted keeps the typed text and
says who deleted it."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains

from diagnostics import editing
from diagnostics.models import Difficulte, SousTheme
from tests.diagnostics.test_editing_pages import contrat as contrat  # noqa: F401 (fixture)
from tests.diagnostics.test_editing_pages import diagnostic as diagnostic  # noqa: F401 (fixture)
from tests.diagnostics.test_editing_pages import difficulte, element_url

pytestmark = pytest.mark.usefixtures("diagnostic")

CHANGED = "a changé depuis l&#x27;affichage de la confirmation"


def hidden(response, name):
    match = re.search(rf'name="{name}" value="([^"]*)"', response.content.decode())
    assert match, f"pas de champ {name}"
    return match.group(1)


def test_a_deletion_takes_only_what_its_confirmation_listed(marie, paul):
    acces = SousTheme.objects.get(libelle="Accès aux soins")
    url = reverse("diagnostics:sous_theme_supprimer", args=["montlucon", acces.pk])
    client = Client()
    client.force_login(marie)
    page = client.get(url)
    assertContains(page, "Seront aussi supprimés : 3 difficultés et 1 indicateur.")
    listed = {"version": hidden(page, "version"), "empreinte": hidden(page, "empreinte")}

    # Meanwhile, Paul adds a fourth difficulté.
    editing.create(Difficulte(sous_theme=acces, libelle="Délais de rendez-vous"), paul)

    response = client.post(url, listed)

    assert response.status_code == 200
    assertContains(response, CHANGED)
    assertContains(response, "Seront aussi supprimés : 4 difficultés et 1 indicateur.")
    assert SousTheme.objects.filter(pk=acces.pk).exists()
    assert Difficulte.objects.filter(sous_theme=acces).count() == 4

    # Confirmed again, on what is listed now: deleted.
    again = {"version": hidden(response, "version"), "empreinte": hidden(response, "empreinte")}
    assert client.post(url, again).status_code == 302
    assert not SousTheme.objects.filter(pk=acces.pk).exists()
    assert Difficulte.objects.count() == 0


def test_a_deletion_of_an_unchanged_set_goes_through(marie):
    acces = SousTheme.objects.get(libelle="Accès aux soins")
    url = reverse("diagnostics:sous_theme_supprimer", args=["montlucon", acces.pk])
    client = Client()
    client.force_login(marie)
    page = client.get(url)

    response = client.post(
        url, {"version": hidden(page, "version"), "empreinte": hidden(page, "empreinte")}
    )

    assert response.status_code == 302
    assert not SousTheme.objects.filter(pk=acces.pk).exists()


def test_saving_an_item_deleted_meanwhile_keeps_the_typed_text_and_says_who(marie, paul):
    item = difficulte("Renoncement aux soins")
    client = Client()
    client.force_login(marie)
    assert client.get(element_url("element_modifier", item)).status_code == 200
    editing.delete(item, paul, 1)

    response = client.post(
        element_url("element_modifier", item),
        {"libelle": "Renoncement aux soins, texte tapé par Marie", "version": 1},
    )

    assert response.status_code == 200
    assertContains(response, "Cet élément a été supprimé pendant que vous le modifiiez")
    assertContains(response, "Paul Martin l’a supprimé")
    assertContains(response, "Renoncement aux soins, texte tapé par Marie")
    assert not Difficulte.objects.filter(libelle__startswith="Renoncement").exists()


def test_an_item_that_never_existed_is_still_a_404(marie):
    client = Client()
    client.force_login(marie)
    url = reverse("diagnostics:element_modifier", args=["montlucon", "difficultes", 999999])
    assert client.post(url, {"libelle": "X", "version": 1}).status_code == 404
