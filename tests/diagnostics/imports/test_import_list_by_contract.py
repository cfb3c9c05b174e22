"""The list of imports of one contract (`/imports/?contrat=<slug>`), where the home leads an
administrator: only the imports into that contract's editions; a contract they do not
administer, an unknown or unclean slug list nothing, alike."""

import pytest
from django.urls import reverse

from comptes.roles import Role
from tests.factories import DiagnosticFactory, ImportFactory, MembreFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_contracts():
    """An administrator of contracts A and B, an import into each (two into A), and an
    import into C, which they do not administer."""
    a, b, c = (DiagnosticFactory(titre=f"Diagnostic {name}") for name in "ABC")
    admin = UserFactory(role=Role.ADMINISTRATEUR, contrat=a.contrat)
    MembreFactory(contrat=b.contrat, compte=admin, role=Role.ADMINISTRATEUR)
    for diagnostic, filename in ((a, "a-1.tsv"), (a, "a-2.tsv"), (b, "b.tsv"), (c, "c.tsv")):
        ImportFactory(diagnostic=diagnostic, nom_fichier=filename)
    return admin, a, b, c


def listed(client, **params):
    response = client.get(reverse("diagnostics:imports"), params)
    assert response.status_code == 200
    page = response.content.decode()
    return page, {name for name in ("a-1.tsv", "a-2.tsv", "b.tsv", "c.tsv") if name in page}


def test_the_list_of_one_contract_shows_its_imports_only(client, two_contracts):
    admin, a, b, _ = two_contracts
    client.force_login(admin)

    page, files = listed(client, contrat=a.contrat.slug)

    assert files == {"a-1.tsv", "a-2.tsv"}
    assert f"<h1>Imports : {a.contrat.nom}</h1>" in page
    assert "Voir les imports de tous vos contrats" in page
    assert listed(client)[1] == {"a-1.tsv", "a-2.tsv", "b.tsv"}


@pytest.mark.parametrize("slug", ["contrat-c", "inconnu", "a\x00b", "' OR 1=1 --"])
def test_another_contract_or_a_bad_slug_lists_nothing_and_names_nothing(
    client, two_contracts, slug
):
    admin, _, _, c = two_contracts
    client.force_login(admin)
    if slug == "contrat-c":
        slug = c.contrat.slug

    page, files = listed(client, contrat=slug)

    assert files == set()
    assert "Aucun import dans les éditions de ce contrat." in page
    assert c.contrat.nom not in page


def test_the_pages_of_the_list_keep_the_contract(client, two_contracts, settings):
    admin, a, _, _ = two_contracts
    for number in range(55):
        ImportFactory(diagnostic=a, nom_fichier=f"a-plus-{number}.tsv")
    client.force_login(admin)

    page, _ = listed(client, contrat=a.contrat.slug)

    assert f"?contrat={a.contrat.slug}&amp;page=2" in page


def test_the_home_leads_each_administrator_to_the_imports_of_the_contract(client, two_contracts):
    admin, a, b, _ = two_contracts
    client.force_login(admin)

    page = client.get(reverse("home")).content.decode()

    for diagnostic in (a, b):
        assert f'href="{reverse("diagnostics:imports")}?contrat={diagnostic.contrat.slug}"' in page
