"""The copy path of the measures import (PostgreSQL) writes exactly what the ORM's bulk path
writes: the same measures, the same history rows, in the same order, in one transaction."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from diagnostics.models import Import, import_change_reason
from indicateurs.imports import import_measures
from indicateurs.models import Indicateur, Mesure
from tests.factories import UserFactory
from tests.indicateurs.imports.test_import_mesures import CHOMAGE, Setting, csv

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY est propre à PostgreSQL"
)

KEY = (
    "indicateur_id",
    "nature",
    "quartier_id",
    "territoire_id",
    "annee",
    "type_periode",
    "numero_periode",
)
# What differs by nature between two runs of the same import: ids, dates, the import's pk.
VARYING = {"id", "created_at", "updated_at", "history_id", "history_date"}


@pytest.fixture
def setting():
    setting = Setting()
    # Periods of every kind for one indicator ("ponctuelle"); another one is a rate.
    Indicateur.objects.filter(pk=setting.chomage.pk).update(periodicite="ponctuelle")
    Indicateur.objects.filter(pk=setting.allocataires.pk).update(taux=True)
    Mesure.objects.create(
        indicateur=setting.chomage,
        annee=2021,
        valeur=Decimal("20"),
        source="Insee",
        commentaire="ancien",
    )
    Mesure.objects.create(
        indicateur=setting.chomage,
        annee=2022,
        quartier=setting.bien_assis,
        valeur=Decimal("21"),
        fictive=True,
    )
    Mesure.objects.create(indicateur=setting.ambiance, annee=2022, texte="Calme", source="Ville")
    Mesure.objects.create(
        indicateur=setting.allocataires, annee=2020, quartier=setting.rive_gauche, valeur=100
    )
    return setting


ALLOCATAIRES = "Nombre d'allocataires CAF"
FIRST = csv(
    [
        [
            "Indicateur",
            "Quartier",
            "Période",
            "Valeur",
            "Source",
            "Commentaire",
            "Nature",
            "Numérateur",
            "Dénominateur",
        ],
        [CHOMAGE, "", "2021", "20", "Insee", "ancien", "", "", ""],  # unchanged
        # A demonstration value made real:
        [CHOMAGE, "Bien-Assis", "2022", "21", "", "", "", "", ""],
        [CHOMAGE, "QN00304M", "T1 2023", "1 234,5678", "Insee", "provisoire", "", "", ""],
        [CHOMAGE, "QN00305M", "03/2023", "-2,5 %", "", "tab\tet\\barre", "", "", ""],
        ["Ambiance dans le quartier", "", "2022", "Tendue", "Mairie", "vu en réunion", "", "", ""],
        ["Ambiance dans le quartier", "Fontbouillant", "2023", "Apaisée", "", "", "", "", ""],
        ["Nombre d'interventions", "QN00306M", "2024", "à venir", "Ville", "N\\A", "", "", ""],
        ["Nombre d'interventions", "", "2024", "12", "", "", "", "", ""],
        # A rate: its terms (an existing value gets them), a reference, a comparison.
        [ALLOCATAIRES, "QN00304M", "2020", "", "", "", "", "30", "120"],
        [ALLOCATAIRES, "", "2021", "", "", "", "valeur", "1", "3"],
        [ALLOCATAIRES, "", "2020", "20", "", "", "Référence", "", ""],
        [ALLOCATAIRES, "FM", "2020", "22,5", "", "", "", "", ""],
    ]
)
# No Source nor Commentaire column: the measures keep theirs.
SECOND = csv(
    [
        ["Indicateur", "Quartier", "Période", "Valeur"],
        [CHOMAGE, "", "2021", "19"],
        [CHOMAGE, "QN00304M", "T1 2023", "1 234,5678"],
        [CHOMAGE, "QN00304M", "T2 2023", "7"],
        ["Ambiance dans le quartier", "", "2022", "Calme"],
    ]
)


def written(reports):
    """Every measure by key, each with its history rows in order, without what differs by
    nature between two runs; the import a history row comes from as its rank in `reports`."""
    reasons = {
        import_change_reason(report.import_record): rank for rank, report in enumerate(reports)
    }
    imports = {report.import_record.pk: rank for rank, report in enumerate(reports)}
    history = {}
    for row in Mesure.history.order_by("history_id").values():
        row["history_change_reason"] = reasons.get(
            row["history_change_reason"], row["history_change_reason"]
        )
        row["import_source_id"] = imports.get(row["import_source_id"], row["import_source_id"])
        history.setdefault(row["id"], []).append(_stable(row))
    measures = {}
    for row in Mesure.objects.values():
        measures[tuple(row[name] for name in KEY)] = (_stable(row), history.pop(row["id"]))
    assert not history  # no history row of a measure that does not exist
    return measures


def _stable(row):
    return {name: value for name, value in row.items() if name not in VARYING}


def creation_order():
    """The keys of the measures in the order of their ids, and of their first history rows."""
    measures = [tuple(row[:-1]) for row in Mesure.objects.order_by("id").values_list(*KEY, "id")]
    created = Mesure.history.filter(history_type="+").order_by("history_id")
    return measures, [tuple(row) for row in created.values_list(*KEY)]


def run(setting, engine, user):
    with transaction.atomic():
        before = timezone.now()
        reports = [
            import_measures(setting.diagnostic, "a.csv", FIRST, user=user, engine=engine),
            import_measures(setting.diagnostic, "b.csv", SECOND, engine=engine),
        ]
        after = timezone.now()
        counts = [(report.created, report.updated, report.unchanged) for report in reports]
        result = (counts, written(reports), creation_order())
        # Whatever the path, what the imports wrote is dated within them.
        changed = sum(created + updated for created, updated, _ in counts)
        assert Mesure.history.filter(history_date__range=(before, after)).count() == changed
        assert not Mesure.objects.filter(updated_at__gt=after).exists()
        transaction.set_rollback(True)
    return result


def test_the_copy_path_writes_what_the_bulk_path_writes(setting):
    user = UserFactory(username="agent-import")

    bulk, copy = run(setting, "bulk", user), run(setting, "copy", user)

    assert bulk[0] == [(8, 3, 1), (1, 2, 1)]
    assert copy == bulk


def test_the_copy_path_writes_the_history_of_each_measure_as_it_is_written(setting):
    user = UserFactory(username="agent-import")

    report = import_measures(setting.diagnostic, "a.csv", FIRST, user=user, engine="copy")

    reason = import_change_reason(report.import_record)
    rows = Mesure.history.filter(history_change_reason=reason)
    assert rows.count() == 11
    for row in rows:
        measure = Mesure.objects.get(pk=row.id)
        for field in Mesure.history.model.tracked_fields:
            assert getattr(row, field.attname) == getattr(measure, field.attname)
        assert row.history_user == user
        assert row.history_date == measure.updated_at
        assert row.history_type == ("+" if measure.version == 1 else "~")
    made_real = Mesure.objects.get(indicateur=setting.chomage, annee=2022)
    assert (made_real.fictive, made_real.version, made_real.saisi_par) == (False, 2, user)
    quarter = Mesure.objects.get(indicateur=setting.chomage, type_periode="trimestre")
    assert quarter.valeur == Decimal("1234.5678")
    assert quarter.created_at == quarter.updated_at <= timezone.now()
    assert timezone.now() - quarter.created_at < datetime.timedelta(minutes=1)


def test_a_copy_import_that_fails_in_the_database_leaves_nothing(setting):
    """The copy path's statements run in the import's transaction: when the database
    refuses a history row, after the measures were written, nothing of the import remains,
    not even its temporary table."""
    before = written([])
    with connection.cursor() as cursor:
        # A rule of the database the importer does not know of: no value above 1,000 in
        # the history (the measures' INSERT passes, then their history's fails). The
        # fixture's foreign keys are checked first: a table with checks pending is not altered.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "ALTER TABLE indicateurs_historicalmesure "
            "ADD CONSTRAINT banc_valeur_max CHECK (valeur < 1000)"
        )

    with pytest.raises(IntegrityError, match="banc_valeur_max"), transaction.atomic():
        import_measures(setting.diagnostic, "a.csv", FIRST, engine="copy")

    assert written([]) == before
    assert not Import.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('pg_temp.import_mesures_lignes')")
        assert cursor.fetchone() == (None,)
