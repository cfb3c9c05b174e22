"""The download sentence of the lists (templates/diagnostics/_liste_elements.html) names
what is downloaded, in the singular for one result: "Télécharger cette difficulté",
"Télécharger cet indicateur", "Télécharger ces 2 difficultés"."""

import re

import pytest
from django.urls import reverse

from comptes.roles import Role
from tests.factories import DifficulteFactory, IndicateurFactory, SousThemeFactory, UserFactory

pytestmark = pytest.mark.django_db


def sentence(client, url_name, **params):
    page = client.get(reverse(url_name), params).content.decode()
    match = re.search(r'<p class="exports">(Télécharger [^:]*?) :', page)
    return match.group(1).strip() if match else None


@pytest.fixture
def sous_theme(client):
    sous_theme = SousThemeFactory()
    contrat = sous_theme.theme.pilier.diagnostic.contrat
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=contrat))
    return sous_theme


@pytest.mark.parametrize(
    ("factory", "url_name", "one", "two"),
    [
        (DifficulteFactory, "diagnostics:difficultes", "cette difficulté", "ces 2 difficultés"),
        (IndicateurFactory, "indicateurs:liste", "cet indicateur", "ces 2 indicateurs"),
    ],
)
def test_the_download_sentence_names_the_results(client, sous_theme, factory, url_name, one, two):
    factory(sous_theme=sous_theme, libelle="Accès aux soins difficile")
    factory(sous_theme=sous_theme, libelle="Mobilité réduite")

    assert sentence(client, url_name) == f"Télécharger {two}"
    assert sentence(client, url_name, q="mobilité") == f"Télécharger {one}"
    assert sentence(client, url_name, q="introuvable") is None  # nothing to download
    assert "cette ligne" not in client.get(reverse(url_name), {"q": "mobilité"}).content.decode()
