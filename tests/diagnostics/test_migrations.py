"""A database made by the previous version migrates forward with its data and history
intact, and back again: rows written through the old schema (with the old way of tying
history rows together) are read through the new one."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

# The schema before levels and items carried their diagnostic and history rows their links.
BEFORE = [
    ("diagnostics", "0007_recherche_vecteur_stocke"),
    ("indicateurs", "0003_mesure_donnee_fictive"),
]


@pytest.fixture
def _give_every_test_the_database(transactional_db, django_db_serialized_rollback):
    """Overrides tests/conftest.py: migrations run outside any transaction (SQLite). As
    the browser tests, the database is put back as the session found it (the roles
    included), whichever runs first."""


@pytest.fixture
def executor():
    """Migrations to run; whatever the test does, the database ends at the latest schema."""
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    yield executor
    executor = MigrationExecutor(connection)
    executor.migrate(latest)


def migrate(executor, targets):
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest(executor):
    executor.loader.build_graph()
    return executor.loader.graph.leaf_nodes()


class OldDatabase:
    """Rows written as the previous version wrote them, history rows included."""

    def __init__(self, apps):
        self.apps = apps
        self.now = timezone.now()
        # Who made the changes: history rows pointing to an account, as in a real database
        # (their foreign keys are then checked at commit).
        self.user = apps.get_model("auth", "User").objects.create(username="ancienne.version")

    def model(self, label):
        return self.apps.get_model(*label.split("."))

    def create(self, label, reason="Création", **values):
        obj = self.model(label).objects.create(**values)
        self.record(label, obj, "+", reason)
        return obj

    def record(self, label, obj, history_type, reason):
        app, name = label.split(".")
        historical = self.apps.get_model(app, f"Historical{name}")
        values = {
            field.attname: getattr(obj, field.attname)
            for field in obj._meta.concrete_fields
            if field.attname in {f.attname for f in historical._meta.concrete_fields}
        }
        return historical.objects.create(
            **values,
            history_date=self.now,
            history_type=history_type,
            history_change_reason=reason,
            history_user_id=self.user.pk,
        )


def fill_old_database(apps):
    old = OldDatabase(apps)
    common = {"version": 1}
    diagnostic = old.model("diagnostics.Diagnostic").objects.create(
        titre="Contrat de ville de Montluçon",
        slug="montlucon",
        territoire="Montluçon Communauté",
        annee_debut=2024,
        annee_fin=2030,
    )
    Import = old.model("diagnostics.Import")
    seed = Import.objects.create(
        diagnostic=diagnostic, nom_fichier="diagnostic-montlucon.tsv", sha256="a" * 64, taille=1
    )
    undone = Import.objects.create(
        diagnostic=diagnostic,
        nom_fichier="complement.xlsx",
        sha256="b" * 64,
        taille=1,
        annule_le=old.now,
    )
    by_seed = f"import:{seed.pk}"
    pilier = old.create(
        "diagnostics.Pilier",
        reason=by_seed,
        diagnostic=diagnostic,
        numero=1,
        libelle="Cohésion",
        cle="cohesion",
    )
    theme = old.create(
        "diagnostics.Theme",
        reason=by_seed,
        pilier=pilier,
        libelle="Santé",
        cle="sante",
        position=1,
        **common,
    )
    # What an undone import created: created, then deleted by the undo (history only).
    annule = old.create(
        "diagnostics.Difficulte",
        reason=f"import:{undone.pk}",
        theme=theme,
        libelle="Une difficulté annulée",
        cle="d" * 64,
        position=9,
    )
    old.record("diagnostics.Difficulte", annule, "-", f"annulation:import:{undone.pk}")
    annule_pk = annule.pk
    annule.delete()
    sous_theme = old.create(
        "diagnostics.SousTheme",
        theme=theme,
        libelle="Accès aux soins",
        cle="acces aux soins",
        position=1,
        **common,
    )
    difficulte = old.create(
        "diagnostics.Difficulte",
        sous_theme=sous_theme,
        libelle="Manque de médecins",
        cle="a" * 64,
        position=1,
        **common,
    )
    au_niveau_du_theme = old.create(
        "indicateurs.Indicateur",
        theme=theme,
        libelle="Nombre de médecins",
        cle="b" * 64,
        position=1,
        **common,
    )
    # A thème deleted since, with its sous-thème and difficulté (history only).
    supprime = old.create(
        "diagnostics.Theme", pilier=pilier, libelle="Éducation", cle="education", position=2
    )
    sous_theme_supprime = old.create(
        "diagnostics.SousTheme", theme=supprime, libelle="Écoles", cle="ecoles", position=1
    )
    difficulte_supprimee = old.create(
        "diagnostics.Difficulte",
        sous_theme=sous_theme_supprime,
        libelle="Décrochage",
        cle="c" * 64,
        position=1,
    )
    indicateur_supprime = old.create(
        "indicateurs.Indicateur",
        sous_theme=sous_theme_supprime,
        libelle="Taux de décrochage",
        cle="e" * 64,
        position=1,
    )
    mesure_supprimee = old.create(
        "indicateurs.Mesure", reason=by_seed, indicateur=indicateur_supprime, annee=2024, valeur=3
    )
    marker = f"Suppression avec le thème n° {supprime.pk} « Éducation »"
    old.record("indicateurs.Mesure", mesure_supprimee, "-", marker)
    old.record("indicateurs.Indicateur", indicateur_supprime, "-", marker)
    old.record("diagnostics.Difficulte", difficulte_supprimee, "-", marker)
    old.record("diagnostics.SousTheme", sous_theme_supprime, "-", marker)
    old.record("diagnostics.Theme", supprime, "-", "Suppression")
    for obj in (
        mesure_supprimee,
        indicateur_supprime,
        difficulte_supprimee,
        sous_theme_supprime,
        supprime,
    ):
        type(obj).objects.filter(pk=obj.pk).delete()
    return {
        "imports": (seed.pk, undone.pk),
        "annule": annule_pk,
        "mesure_supprimee": mesure_supprimee.pk,
        "indicateur_supprime": indicateur_supprime.pk,
        "diagnostic": diagnostic.pk,
        "theme": theme.pk,
        "sous_theme": sous_theme.pk,
        "difficulte": difficulte.pk,
        "indicateur": au_niveau_du_theme.pk,
        "supprime": (supprime.pk, sous_theme_supprime.pk, difficulte_supprimee.pk),
    }


def test_levels_items_and_their_history_get_their_diagnostic_and_migrate_back(executor):
    ids = fill_old_database(migrate(executor, BEFORE))

    apps = migrate(executor, latest(executor))

    def model(label):
        return apps.get_model(*label.split("."))

    diagnostic = ids["diagnostic"]
    for label, pk in (
        ("diagnostics.Theme", ids["theme"]),
        ("diagnostics.SousTheme", ids["sous_theme"]),
        ("diagnostics.Difficulte", ids["difficulte"]),
        ("indicateurs.Indicateur", ids["indicateur"]),
    ):
        assert model(label).objects.get(pk=pk).diagnostic_id == diagnostic, label
    theme, sous_theme, difficulte = ids["supprime"]
    for label, pk in (
        ("diagnostics.HistoricalTheme", theme),
        ("diagnostics.HistoricalSousTheme", sous_theme),
        ("diagnostics.HistoricalDifficulte", difficulte),
    ):
        rows = model(label).objects.filter(id=pk)
        assert rows.count() == 2
        assert set(rows.values_list("diagnostic_id", flat=True)) == {diagnostic}, label

    apps = migrate(executor, BEFORE)

    assert apps.get_model("diagnostics", "Difficulte").objects.get(pk=ids["difficulte"])
    assert apps.get_model("diagnostics", "HistoricalTheme").objects.filter(id=theme).count() == 2


def test_history_links_become_columns_and_reasons_sentences_and_back(executor):
    ids = fill_old_database(migrate(executor, BEFORE))
    seed, undone = ids["imports"]
    theme, sous_theme, difficulte = ids["supprime"]

    apps = migrate(executor, latest(executor))

    def history(label):
        return apps.get_model(*label.split(".")).objects

    pilier = history("diagnostics.HistoricalPilier").get()
    assert (pilier.import_source_id, pilier.history_change_reason) == (
        seed,
        "Import du fichier « diagnostic-montlucon.tsv »",
    )
    created, cancelled = (
        history("diagnostics.HistoricalDifficulte").filter(id=ids["annule"]).order_by("history_id")
    )
    assert (created.import_source_id, created.history_change_reason) == (
        undone,
        "Import du fichier « complement.xlsx »",
    )
    assert (cancelled.annulation_de_id, cancelled.history_change_reason) == (
        undone,
        "Annulation de l'import du fichier « complement.xlsx »",
    )
    # One deletion: the thème's own row and what went with it share a Suppression.
    deleted = [
        history(label).get(id=pk, history_type="-")
        for label, pk in (
            ("diagnostics.HistoricalTheme", theme),
            ("diagnostics.HistoricalSousTheme", sous_theme),
            ("diagnostics.HistoricalDifficulte", difficulte),
            ("indicateurs.HistoricalIndicateur", ids["indicateur_supprime"]),
            ("indicateurs.HistoricalMesure", ids["mesure_supprimee"]),
        )
    ]
    suppressions = {row.suppression_id for row in deleted}
    assert len(suppressions) == 1 and None not in suppressions
    suppression = apps.get_model("diagnostics", "Suppression").objects.get()
    assert (suppression.diagnostic_id, suppression.date) == (
        ids["diagnostic"],
        deleted[0].history_date,
    )
    assert deleted[1].history_change_reason == f"Suppression avec le thème n° {theme} « Éducation »"
    assert history("diagnostics.HistoricalTheme").filter(suppression=None).count() == 2

    apps = migrate(executor, BEFORE)

    assert apps.get_model(
        "diagnostics", "HistoricalPilier"
    ).objects.get().history_change_reason == (f"import:{seed}")
    reasons = (
        apps.get_model("diagnostics", "HistoricalDifficulte")
        .objects.filter(id=ids["annule"])
        .order_by("history_id")
        .values_list("history_change_reason", flat=True)
    )
    assert list(reasons) == [f"import:{undone}", f"annulation:import:{undone}"]
