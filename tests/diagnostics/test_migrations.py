"""A database made by a previous version migrates forward with its data and history
intact, and back again: rows written through an old schema (with the old way of tying
history rows together, the old references and targets of the indicators, diagnostics before
contracts and editions) are read through the new one.

Migrating the whole schema back and forth costs about 45 s of CPU each time (Django renders
the models' states at each operation): one round trip serves every version. The rows of
each version are written when the database is at that version, on the way forward; each
version's rows are checked at the latest schema, and on the way back at their version."""

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

# The schema before levels and items carried their diagnostic and history rows their links.
BEFORE = [
    ("diagnostics", "0007_recherche_vecteur_stocke"),
    ("indicateurs", "0003_mesure_donnee_fictive"),
]
# Before the references and targets of the indicators were values scoped to a territory.
BEFORE_PORTEES = [
    ("diagnostics", "0009_liens_historique"),
    ("indicateurs", "0005_liens_historique"),
]
# Before contracts and editions (diagnostics 0010).
BEFORE_EDITIONS = [
    ("diagnostics", "0009_liens_historique"),
    ("indicateurs", "0006_portees_taux_comparaisons"),
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
        self.user, _ = apps.get_model("auth", "User").objects.get_or_create(
            username="ancienne.version"
        )

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
    # Their history rows, by their own ids: a later step of the round trip may give a
    # deleted object's id to a new one (SQLite, once a migration has rebuilt its table).
    historique = {
        label: sorted(
            old.model(f"{label.split('.')[0]}.Historical{label.split('.')[1]}")
            .objects.filter(id=pk)
            .values_list("history_id", flat=True)
        )
        for label, pk in (
            ("diagnostics.Theme", supprime.pk),
            ("diagnostics.SousTheme", sous_theme_supprime.pk),
            ("diagnostics.Difficulte", difficulte_supprimee.pk),
        )
    }
    return {
        "supprime_historique": historique,
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


def test_each_previous_version_migrates_forward_and_back(executor):
    ids = fill_old_database(migrate(executor, BEFORE))
    indicateurs = old_indicators(migrate(executor, BEFORE_PORTEES))
    edition = diagnostic_before_editions(migrate(executor, BEFORE_EDITIONS))

    apps = migrate(executor, latest(executor))

    check_levels_and_items_get_their_diagnostic(apps, ids)
    check_history_links_become_columns_and_reasons_sentences(apps, ids)
    check_references_and_targets_become_the_territorys(apps, indicateurs)
    check_each_diagnostic_becomes_the_first_edition_of_its_contract(apps, edition)

    check_references_and_targets_come_back(migrate(executor, BEFORE_PORTEES), indicateurs)
    apps = migrate(executor, BEFORE)
    check_levels_and_items_come_back(apps, ids)
    check_history_reasons_come_back(apps, ids)


# Levels and items get their diagnostic; history links become columns ---------------------


def check_levels_and_items_get_their_diagnostic(apps, ids):
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
        written = ids["supprime_historique"][label.replace("Historical", "")]
        rows = model(label).objects.filter(id=pk, history_id__in=written)
        assert rows.count() == 2
        assert set(rows.values_list("diagnostic_id", flat=True)) == {diagnostic}, label


def check_history_links_become_columns_and_reasons_sentences(apps, ids):
    seed, undone = ids["imports"]
    theme, sous_theme, difficulte = ids["supprime"]

    def history(label):
        return apps.get_model(*label.split(".")).objects

    pilier = history("diagnostics.HistoricalPilier").get(diagnostic_id=ids["diagnostic"])
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
    assert (suppression.pk, suppression.diagnostic_id, suppression.date) == (
        suppressions.pop(),
        ids["diagnostic"],
        deleted[0].history_date,
    )
    assert deleted[1].history_change_reason == f"Suppression avec le thème n° {theme} « Éducation »"
    themes = history("diagnostics.HistoricalTheme").filter(diagnostic_id=ids["diagnostic"])
    assert themes.filter(suppression=None).count() == 2


def check_levels_and_items_come_back(apps, ids):
    theme = ids["supprime"][0]
    assert apps.get_model("diagnostics", "Difficulte").objects.get(pk=ids["difficulte"])
    written = ids["supprime_historique"]["diagnostics.Theme"]
    rows = apps.get_model("diagnostics", "HistoricalTheme").objects.filter(id=theme)
    assert rows.filter(history_id__in=written).count() == 2


def check_history_reasons_come_back(apps, ids):
    seed, undone = ids["imports"]
    pilier = apps.get_model("diagnostics", "HistoricalPilier").objects.get(
        diagnostic_id=ids["diagnostic"]
    )
    assert pilier.history_change_reason == f"import:{seed}"
    reasons = (
        apps.get_model("diagnostics", "HistoricalDifficulte")
        .objects.filter(id=ids["annule"])
        .order_by("history_id")
        .values_list("history_change_reason", flat=True)
    )
    assert list(reasons) == [f"import:{undone}", f"annulation:import:{undone}"]


# References and targets become the territory's (indicateurs 0006) ------------------------
# The indicator's reference and target become the territory's, its periodicity comes from
# its first value, the national comparison territories are there; and it migrates back.


def old_indicators(apps):
    old = OldDatabase(apps)
    diagnostic = old.model("diagnostics.Diagnostic").objects.create(
        titre="Vichy", slug="vichy", annee_debut=2024, annee_fin=2030
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


def check_references_and_targets_become_the_territorys(apps, indicateurs):
    chomage, trimestriel = indicateurs
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


def check_references_and_targets_come_back(apps, indicateurs):
    chomage, trimestriel = indicateurs
    Indicateur = apps.get_model("indicateurs", "Indicateur")
    back = Indicateur.objects.get(pk=chomage)
    assert (back.valeur_reference, back.annee_reference) == (Decimal("22.5"), 2019)
    assert (back.valeur_cible, back.annee_cible) == (Decimal(18), 2030)
    mesures = apps.get_model("indicateurs", "Mesure").objects
    assert mesures.filter(indicateur_id__in=indicateurs).count() == 3


# Each diagnostic becomes the first edition of its own contract (diagnostics 0010) --------
# With its history; every level and item, and its history rows, get the same lineage.


def diagnostic_before_editions(apps):
    Diagnostic = apps.get_model("diagnostics", "Diagnostic")
    Pilier = apps.get_model("diagnostics", "Pilier")
    HistoricalPilier = apps.get_model("diagnostics", "HistoricalPilier")
    diagnostic = Diagnostic.objects.create(
        titre="Diagnostic de Moulins",
        slug="moulins",
        territoire="Moulins Communauté",
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
    return diagnostic.pk


def check_each_diagnostic_becomes_the_first_edition_of_its_contract(apps, edition):
    migrated = apps.get_model("diagnostics", "Diagnostic").objects.get(pk=edition)
    assert migrated.contrat.nom == "Diagnostic de Moulins"
    assert migrated.contrat.slug == "moulins"
    assert migrated.nom_edition == "Diagnostic initial — 2024"
    assert migrated.statut == "publie"
    pilier = apps.get_model("diagnostics", "Pilier").objects.get(diagnostic=migrated)
    assert pilier.lignee == uuid.UUID(int=pilier.pk)
    history = apps.get_model("diagnostics", "HistoricalPilier").objects.get(id=pilier.pk)
    assert history.lignee == pilier.lignee
    # The other versions' diagnostics became the first editions of their own contracts too.
    contrats = apps.get_model("diagnostics", "Contrat").objects
    assert set(contrats.values_list("slug", flat=True)) >= {"montlucon", "vichy", "moulins"}
