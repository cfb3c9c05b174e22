"""A database of the previous version migrates to scoped references and targets: the
indicator's reference and target become the territory's, its periodicity comes from its
first value, the national comparison territories are there; and it migrates back."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.diagnostics.test_migrations import OldDatabase, latest, migrate

BEFORE = [("diagnostics", "0009_liens_historique"), ("indicateurs", "0005_liens_historique")]


@pytest.fixture
def _give_every_test_the_database(transactional_db, django_db_serialized_rollback):
    """Overrides tests/conftest.py: migrations run outside any transaction (SQLite). As
    the browser tests, the database is put back as the session found it (the roles
    included), whichever runs first."""


@pytest.fixture
def executor():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    yield executor
    executor = MigrationExecutor(connection)
    executor.migrate(leaves)


def old_indicators(apps):
    old = OldDatabase(apps)
    diagnostic = old.model("diagnostics.Diagnostic").objects.create(
        titre="Montluçon", slug="montlucon", annee_debut=2024, annee_fin=2030
    )
    pilier = old.create(
        "diagnostics.Pilier", diagnostic=diagnostic, numero=1, libelle="Cohésion", cle="c"
    )
    theme = old.create(
        "diagnostics.Theme", pilier=pilier, diagnostic=diagnostic, libelle="Emploi", cle="e"
    )
    chomage = old.create(
        "indicateurs.Indicateur",
        theme=theme,
        diagnostic=diagnostic,
        libelle="Taux de chômage",
        cle="t",
        type="quantitatif",
        valeur_reference=Decimal("22.5"),
        annee_reference=2019,
        valeur_cible=Decimal(18),
        annee_cible=None,
        version=1,
    )
    trimestriel = old.create(
        "indicateurs.Indicateur",
        theme=theme,
        diagnostic=diagnostic,
        libelle="Demandeurs d'emploi",
        cle="d",
        type="quantitatif",
        position=1,
        version=1,
    )
    Mesure = old.model("indicateurs.Mesure")
    Mesure.objects.create(indicateur=chomage, annee=2019, valeur=Decimal("22.5"), version=1)
    Mesure.objects.create(
        indicateur=trimestriel, annee=2024, type_periode="trimestre", numero_periode=1,
        valeur=Decimal(12), version=1,
    )  # fmt: skip
    Mesure.objects.create(indicateur=trimestriel, annee=2024, valeur=Decimal(40), version=1)
    return chomage.pk, trimestriel.pk


def test_references_and_targets_become_the_territorys_and_come_back(executor):
    apps = migrate(executor, BEFORE)
    chomage, trimestriel = old_indicators(apps)

    apps = migrate(executor, latest(executor))
    Mesure = apps.get_model("indicateurs", "Mesure")
    Indicateur = apps.get_model("indicateurs", "Indicateur")
    Territoire = apps.get_model("indicateurs", "TerritoireComparaison")

    reperes = Mesure.objects.filter(indicateur_id=chomage).exclude(nature="valeur")
    assert sorted(reperes.values_list("nature", "annee", "valeur", "quartier_id")) == [
        ("cible", 2030, Decimal(18), None),  # no year given: the contract's end
        ("reference", 2019, Decimal("22.5"), None),
    ]
    # A periodicity from the first value: 2024 (the year) ends after T1 2024 starts it.
    assert Indicateur.objects.get(pk=trimestriel).periodicite == "trimestrielle"
    assert Indicateur.objects.get(pk=chomage).periodicite == "annuelle"
    assert set(Territoire.objects.values_list("code", flat=True)) >= {"FM", "FR", "QPV"}

    apps = migrate(executor, BEFORE)
    Indicateur = apps.get_model("indicateurs", "Indicateur")
    back = Indicateur.objects.get(pk=chomage)
    assert (back.valeur_reference, back.annee_reference) == (Decimal("22.5"), 2019)
    assert (back.valeur_cible, back.annee_cible) == (Decimal(18), 2030)
    assert apps.get_model("indicateurs", "Mesure").objects.count() == 3
