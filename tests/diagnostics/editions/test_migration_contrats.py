"""Migration 0010: each diagnostic of a database made before editions becomes the first
edition of its own contract, with its history; every level and item, and its history
rows, get the same lineage."""

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("diagnostics", "0009_liens_historique"),
    ("indicateurs", "0006_portees_taux_comparaisons"),
]


@pytest.fixture
def _give_every_test_the_database(transactional_db, django_db_serialized_rollback):
    """Overrides tests/conftest.py: migrations run outside any transaction (as in
    tests/diagnostics/test_migrations.py)."""


@pytest.fixture
def executor():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    yield executor
    executor = MigrationExecutor(connection)
    executor.migrate(latest)


def migrate(executor, targets):
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_each_diagnostic_becomes_the_first_edition_of_its_contract(executor):
    apps = migrate(executor, BEFORE)
    Diagnostic = apps.get_model("diagnostics", "Diagnostic")
    Pilier = apps.get_model("diagnostics", "Pilier")
    HistoricalPilier = apps.get_model("diagnostics", "HistoricalPilier")
    diagnostic = Diagnostic.objects.create(
        titre="Diagnostic de Montluçon",
        slug="montlucon",
        territoire="Montluçon Communauté",
        annee_debut=2024,
        annee_fin=2030,
        statut="publie",
    )
    pilier = Pilier.objects.create(
        diagnostic=diagnostic, numero=1, libelle="Cohésion", cle="cohesion"
    )
    HistoricalPilier.objects.create(
        id=pilier.pk,
        diagnostic_id=diagnostic.pk,
        numero=1,
        libelle="Cohésion",
        cle="cohesion",
        created_at=pilier.created_at,
        updated_at=pilier.updated_at,
        version=1,
        history_date=pilier.created_at,
        history_type="+",
    )

    apps = migrate(executor, executor.loader.graph.leaf_nodes())

    Diagnostic = apps.get_model("diagnostics", "Diagnostic")
    migrated = Diagnostic.objects.get(slug="montlucon")
    assert migrated.contrat.nom == "Diagnostic de Montluçon"
    assert migrated.contrat.slug == "montlucon"
    assert migrated.nom_edition == "Diagnostic initial — 2024"
    assert migrated.statut == "publie"
    pilier = apps.get_model("diagnostics", "Pilier").objects.get()
    assert pilier.lignee == uuid.UUID(int=pilier.pk)
    history = apps.get_model("diagnostics", "HistoricalPilier").objects.get()
    assert history.lignee == pilier.lignee
