"""Two administrators confirming the import of the same new diagnostic at the same moment:
one creates it, the other gets the French 409 a retry would show, never a 500.

Real threads, each with its own connection (PostgreSQL: the second INSERT of the slug waits
for the first transaction, then violates the unique constraint)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from comptes.roles import Role
from diagnostics.models import Diagnostic, ImportEnAttente
from tests.diagnostics.test_conflicts import (  # noqa: F401 (fixtures)
    _give_every_test_the_database,
    _leave_the_database_as_found,
    run_at_once,
)
from tests.factories import ContratFactory, UserFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads on real connections: PostgreSQL"
)

ADMINS = 4
TABLE = (
    "Pilier\tThème\tSous-thème\tDifficultés prégnantes\tIndicateur\n"
    "Cohésion sociale\tÉducation\tRéussite éducative\tDécrochage scolaire\t\n"
).encode()
NOUVEAU = {
    "nature": "diagnostic",
    "titre": "Contrat de ville de Montluçon — diagnostic 2024",
    "slug": "montlucon-2024",
    "territoire": "Montluçon Communauté",
    "annee_debut": "2024",
    "annee_fin": "2030",
}
TAKEN = "Un diagnostic porte déjà l&#x27;identifiant court « montlucon-2024 »"


def deposit(index, contrat):
    """An Administrateur of `contrat` (a contract without diagnostic) uploads the table of
    a new diagnostic."""
    client = Client()
    client.force_login(
        UserFactory(username=f"course-import-{index}", role=Role.ADMINISTRATEUR, contrat=contrat)
    )
    data = {**NOUVEAU, "fichier": SimpleUploadedFile("table.tsv", TABLE)}
    response = client.post(reverse("diagnostics:import_nouveau"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    token = ImportEnAttente.objects.get(depose_par__username=f"course-import-{index}").token
    return client, token


def test_concurrent_confirmations_of_the_same_new_diagnostic_answer_409_not_500():
    contrat = ContratFactory()
    deposits = [deposit(index, contrat) for index in range(ADMINS)]

    def confirm(client, token):
        def operation():
            client.raise_request_exception = False
            url = reverse("diagnostics:import_apercu", args=[token])
            return client.post(url, {"action": "confirmer"})

        return operation

    responses = run_at_once([confirm(client, token) for client, token in deposits])

    statuses = sorted(getattr(r, "status_code", repr(r)) for r in responses)
    assert statuses == [302] + [409] * (ADMINS - 1), statuses
    for response in responses:
        if response.status_code == 409:
            assert TAKEN in response.content.decode()
    assert Diagnostic.objects.filter(slug="montlucon-2024").count() == 1
