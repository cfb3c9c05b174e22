"""Importing indicator values: long and wide tables, errors, atomicity, idempotency, history."""

import datetime
import io
from decimal import Decimal
from io import StringIO

import pytest
import tablib
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from openpyxl import Workbook

from diagnostics.models import Import, import_change_reason
from indicateurs.imports import Layout, import_measures, measures
from indicateurs.imports.measures import NOTHING_NEW
from indicateurs.imports.resource import MesureResource
from indicateurs.models import Indicateur, Mesure
from tests.factories import (
    DiagnosticFactory,
    IndicateurFactory,
    QuartierFactory,
    SousThemeFactory,
    UserFactory,
)

# The copy path (COPY to a temporary table, writes done by the server) is PostgreSQL's.
ENGINES = ["resource", "bulk"] + (["copy"] if connection.vendor == "postgresql" else [])
CHOMAGE = "Taux de chômage des 15-64 ans"


# Files made the way partners make them ----------------------------------------------------


def xlsx(rows, title=None):
    workbook = Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
        sheet.append([])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv(rows, delimiter=";", encoding="cp1252"):
    text = "\r\n".join(delimiter.join(str(cell) for cell in row) for row in rows)
    return (text + "\r\n").encode(encoding)


# The diagnostic they go into --------------------------------------------------------------


class Setting:
    """A diagnostic with three QPV and indicators of each type."""

    def __init__(self):
        self.rive_gauche = QuartierFactory(code="QN00304M", nom="Rive Gauche")
        self.fontbouillant = QuartierFactory(code="QN00305M", nom="Fontbouillant")
        self.bien_assis = QuartierFactory(code="QN00306M", nom="Bien-Assis")
        self.ailleurs = QuartierFactory(code="QN01234M", nom="Quartier d'une autre ville")
        self.diagnostic = DiagnosticFactory(territoire="Montluçon Communauté")
        self.diagnostic.quartiers.set([self.rive_gauche, self.fontbouillant, self.bien_assis])
        emploi = SousThemeFactory(
            libelle="Accès à l'emploi", theme__pilier__diagnostic=self.diagnostic
        )
        jeunesse = SousThemeFactory(libelle="Jeunesse", theme=emploi.theme)
        self.chomage = IndicateurFactory(
            sous_theme=emploi, libelle=CHOMAGE, type=Indicateur.Type.QUANTITATIF
        )
        self.allocataires = IndicateurFactory(
            sous_theme=emploi,
            libelle="Nombre d'allocataires CAF",
            type=Indicateur.Type.QUANTITATIF,
        )
        self.ambiance = IndicateurFactory(
            sous_theme=jeunesse, libelle="Ambiance dans le quartier", type="qualitatif"
        )
        self.interventions = IndicateurFactory(
            sous_theme=jeunesse, libelle="Nombre d'interventions", type="a_preciser"
        )
        # The same libellé in two sous-thèmes: only its identifier tells them apart.
        self.animateurs_emploi = IndicateurFactory(
            sous_theme=emploi, libelle="Nombre d'animateurs", type="quantitatif"
        )
        self.animateurs_jeunesse = IndicateurFactory(
            sous_theme=jeunesse, libelle="Nombre d'animateurs", type="quantitatif"
        )
        # An indicator of another diagnostic is never found.
        IndicateurFactory(libelle="Nombre de médiateurs", type="quantitatif")


@pytest.fixture
def setting():
    return Setting()


@pytest.fixture
def user():
    return UserFactory(username="agent-import")


def mesure(indicateur, annee, quartier=None, **values):
    return Mesure.objects.get(indicateur=indicateur, annee=annee, quartier=quartier, **values)


def snapshot():
    """Every measure, history row and import: what a second import must leave as it is."""
    return (
        list(Mesure.objects.order_by("pk").values()),
        list(Mesure.history.order_by("history_id").values()),
        list(Import.objects.order_by("pk").values()),
    )


def lines(report):
    return "\n".join(report.as_lines())


LONG_HEADER = ["Indicateur", "Quartier", "Période", "Valeur", "Source", "Commentaire"]


# Long format ------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_long_csv_from_excel_creates_one_measure_per_row(setting, user, engine):
    content = csv(
        [
            LONG_HEADER,
            [CHOMAGE, "QN00304M", "2023", "24,5 %", "Insee", ""],
            [CHOMAGE, "Fontbouillant", "2023", "31,2", "Insee", "Estimation"],
            [CHOMAGE, "Ensemble du territoire", "2023", "12,8", "Insee", ""],
            ["Nombre d'allocataires CAF", "", "2024", "1 234", "CAF", ""],
            ["Nombre d'allocataires CAF", "bien assis", "2024", "1\xa0234,5", "CAF", ""],
        ]
    )

    report = import_measures(setting.diagnostic, "valeurs.csv", content, user=user, engine=engine)

    assert report.ok, lines(report)
    assert report.layout == Layout.LONG
    assert (report.created, report.updated, report.unchanged) == (5, 0, 0)
    assert mesure(setting.chomage, 2023, setting.rive_gauche).valeur == Decimal("24.5")
    assert mesure(setting.chomage, 2023, setting.fontbouillant).commentaire == "Estimation"
    territoire = mesure(setting.chomage, 2023, None)
    assert territoire.valeur == Decimal("12.8")
    assert territoire.source == "Insee"
    assert territoire.saisi_par == user
    assert territoire.version == 1
    assert mesure(setting.allocataires, 2024).valeur == Decimal("1234")
    assert mesure(setting.allocataires, 2024, setting.bien_assis).valeur == Decimal("1234.5")
    record = report.import_record
    assert record.nature == Import.Nature.MESURES
    assert record.importe_par == user
    assert record.compte_rendu["counts"] == {"created": 5, "updated": 0, "unchanged": 0}
    assert report.as_lines()[:3] == [
        "Import de « valeurs.csv » enregistré.",
        "Tableau lu : une ligne par valeur, 5 valeurs.",
        "Mesures : 5 créées, 0 mise à jour, 0 inchangée",
    ]
    history = Mesure.history.filter(history_type="+")
    assert history.count() == 5
    assert {row.history_change_reason for row in history} == {import_change_reason(record)}
    assert {row.history_user_id for row in history} == {user.pk}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_long_xlsx_takes_infra_annual_periods_in_every_usual_form(setting, engine):
    # A "ponctuelle" indicator takes any kind of period (series: test_import_mesures_portees).
    Indicateur.objects.filter(pk=setting.chomage.pk).update(periodicite="ponctuelle")
    content = xlsx(
        [
            ["Indicateur", "Quartier", "Période", "Valeur"],
            [CHOMAGE, "QN00304M", "T1 2024", 21.5],
            [CHOMAGE, "QN00304M", "2024-T2", 22],
            [CHOMAGE, "QN00304M", "3e trimestre 2024", 22.25],
            [CHOMAGE, "QN00305M", "03/2024", 30],
            [CHOMAGE, "QN00305M", "2024-04", 31],
            [CHOMAGE, "QN00305M", datetime.datetime(2024, 5, 1), 32],
            [CHOMAGE, "QN00305M", "juin 2024", 33],
            [CHOMAGE, "QN00306M", 2022, 0.1 + 0.2],
        ],
        title="Chômage par quartier — source Insee",
    )

    report = import_measures(setting.diagnostic, "valeurs.xlsx", content, engine=engine)

    assert report.ok, lines(report)
    periods = {
        (m.quartier.code, m.annee, m.type_periode, m.numero_periode): m.valeur
        for m in Mesure.objects.select_related("quartier")
    }
    assert periods == {
        ("QN00304M", 2024, "trimestre", 1): Decimal("21.5"),
        ("QN00304M", 2024, "trimestre", 2): Decimal("22"),
        ("QN00304M", 2024, "trimestre", 3): Decimal("22.25"),
        ("QN00305M", 2024, "mois", 3): Decimal("30"),
        ("QN00305M", 2024, "mois", 4): Decimal("31"),
        ("QN00305M", 2024, "mois", 5): Decimal("32"),
        ("QN00305M", 2024, "mois", 6): Decimal("33"),
        ("QN00306M", 2022, "annee", 0): Decimal("0.3"),
    }


def test_a_long_table_may_split_the_period_into_year_and_quarter_or_month(setting):
    Indicateur.objects.filter(pk=setting.chomage.pk).update(periodicite="ponctuelle")
    content = csv(
        [
            ["Indicateur", "Année", "Trimestre", "Mois", "Valeur"],
            [CHOMAGE, "2024", "T3", "", "12"],
            [CHOMAGE, "2024", "", "11", "13"],
            [CHOMAGE, "2024", "", "", "14"],
        ]
    )

    report = import_measures(setting.diagnostic, "valeurs.csv", content)

    assert report.ok, lines(report)
    assert sorted(Mesure.objects.values_list("type_periode", "numero_periode", "valeur")) == [
        ("annee", 0, Decimal("14")),
        ("mois", 11, Decimal("13")),
        ("trimestre", 3, Decimal("12")),
    ]


# Wide format ------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_wide_xlsx_gives_one_measure_per_year_column(setting, engine):
    content = xlsx(
        [
            ["Indicateur", "Quartier", "Unité", "2021", "2022", "2023", "Source"],
            [CHOMAGE, "Rive Gauche", "%", 25.1, 24.8, None, "Insee"],
            [CHOMAGE, "Ensemble du territoire", "%", 13, "nd", 12.5, "Insee"],
            ["nombre d'allocataires caf", "", "", "", "", "1 500", "CAF"],
        ],
        title="Tableau de bord Quartiers 2030",
    )

    report = import_measures(setting.diagnostic, "valeurs.xlsx", content, engine=engine)

    assert report.ok, lines(report)
    assert report.layout == Layout.WIDE
    assert report.created == 5
    assert sorted(
        Mesure.objects.values_list("indicateur__libelle", "quartier__code", "annee", "valeur"),
        key=str,
    ) == sorted(
        [
            ("Nombre d'allocataires CAF", None, 2023, Decimal("1500")),
            (CHOMAGE, None, 2021, Decimal("13")),
            (CHOMAGE, None, 2023, Decimal("12.5")),
            (CHOMAGE, "QN00304M", 2021, Decimal("25.1")),
            (CHOMAGE, "QN00304M", 2022, Decimal("24.8")),
        ],
        key=str,
    )
    assert set(Mesure.objects.values_list("source", flat=True)) == {"Insee", "CAF"}
    assert (None, "1 valeur non disponible (« nd », « s », « - »…) ignorée.") in report.warnings


def test_a_wide_csv_takes_quarter_columns(setting):
    content = csv(
        [
            ["Identifiant", "Quartier", "T1 2024", "T2 2024"],
            [setting.animateurs_jeunesse.pk, "QN00306M", "4", "5"],
        ],
        delimiter=",",
        encoding="utf-8",
    )

    report = import_measures(setting.diagnostic, "valeurs.csv", content)

    assert report.ok, lines(report)
    assert sorted(setting.animateurs_jeunesse.mesures.values_list("numero_periode", "valeur")) == [
        (1, Decimal("4")),
        (2, Decimal("5")),
    ]


def test_an_impossible_period_column_of_a_wide_table_is_an_error(setting):
    content = csv([["Indicateur", "2023", "T5 2024"], [CHOMAGE, "1", "2"]])

    report = import_measures(setting.diagnostic, "valeurs.csv", content)

    assert not report.ok
    assert report.errors == [
        (2, "Période « T5 2024 » : trimestre 5 impossible (de 1 à 4)."),
    ]
    assert not Mesure.objects.exists()


# Errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(setting, engine):
    content = csv(
        [
            ["Identifiant", "Indicateur", "Quartier", "Période", "Valeur"],
            ["", CHOMAGE, "QN00304M", "2023", "24,5"],
            ["", "Taux de réussite au brevet", "QN00304M", "2023", "80"],
            ["", CHOMAGE, "La Verrerie", "2023", "20"],
            ["", CHOMAGE, "QN00304M", "2023", "vingt"],
            ["", CHOMAGE, "QN00304M", "T5 2024", "1"],
            ["", CHOMAGE, "QN00304M", "13/2024", "1"],
            ["", CHOMAGE, "QN00304M", "1890", "1"],
            ["", "Nombre d'animateurs", "", "2023", "3"],
            ["999999", "", "", "2023", "3"],
            [str(setting.allocataires.pk), CHOMAGE, "", "2023", "3"],
            ["", CHOMAGE, "QN00304M", "2023", "25"],
            ["", CHOMAGE, "QN01234M", "2023", "25"],
            ["", "Taux de réussite au brevet", "Nulle part", "S3 2024", "x"],
        ]
    )

    report = import_measures(setting.diagnostic, "valeurs.csv", content, engine=engine)

    assert not report.ok
    animateurs = (
        f"Indicateur « Nombre d'animateurs » présent plusieurs fois dans ce diagnostic "
        f"(« Accès à l'emploi » (identifiant {setting.animateurs_emploi.pk}), « Jeunesse » "
        f"(identifiant {setting.animateurs_jeunesse.pk})) : précisez lequel dans une "
        "colonne Identifiant."
    )
    assert report.errors == [
        (
            3,
            "Indicateur « Taux de réussite au brevet » introuvable dans ce diagnostic (casse "
            "et accents ignorés) : vérifiez son libellé ou donnez son identifiant.",
        ),
        (
            4,
            "Quartier « La Verrerie » inconnu : donnez son code QPV (par exemple QN00304M) "
            "ou son nom, « Ensemble du territoire » pour tout le territoire, ou le code ou "
            "le nom d'un territoire de comparaison (par exemple FM pour la France "
            "métropolitaine).",
        ),
        (
            5,
            f"Valeur « vingt » (2023) : l'indicateur « {CHOMAGE} » est quantitatif, sa valeur "
            "doit être un nombre (par exemple 1 234,5 ou 12,5 %).",
        ),
        (6, "Période « T5 2024 » : trimestre 5 impossible (de 1 à 4)."),
        (7, "Période « 13/2024 » : mois 13 impossible (de 1 à 12)."),
        (8, "Période « 1890 » : année 1890 impossible (de 1990 à 2100)."),
        (9, animateurs),
        (10, "Identifiant 999999 : aucun indicateur de ce diagnostic ne porte cet identifiant."),
        (
            11,
            f"Identifiant {setting.allocataires.pk} : c'est l'indicateur « Nombre "
            f"d'allocataires CAF », pas « {CHOMAGE} ».",
        ),
        (12, "Même indicateur, même quartier et même période qu'à la ligne 2."),
        (
            13,
            "Quartier « QN01234M » : Quartier d'une autre ville ne fait pas partie des "
            "quartiers de ce diagnostic.",
        ),
        (
            14,
            "Indicateur « Taux de réussite au brevet » introuvable dans ce diagnostic (casse "
            "et accents ignorés) : vérifiez son libellé ou donnez son identifiant. "
            "Quartier « Nulle part » inconnu : donnez son code QPV (par exemple QN00304M) ou "
            "son nom, « Ensemble du territoire » pour tout le territoire, ou le code ou le "
            "nom d'un territoire de comparaison (par exemple FM pour la France "
            "métropolitaine). Période « S3 2024 » : semestre 3 impossible (1 ou 2).",
        ),
    ]
    assert report.as_lines()[0] == "Fichier « valeurs.csv » refusé : rien n'a été enregistré."
    assert "ligne 7 : Période « 13/2024 » : mois 13 impossible (de 1 à 12)." in lines(report)
    assert not Mesure.objects.exists()
    assert not Mesure.history.exists()
    assert not Import.objects.exists()
    assert report.import_record is None


@pytest.mark.parametrize("engine", ENGINES)
def test_a_bad_last_row_leaves_the_database_as_it_was(setting, engine):
    Mesure.objects.create(indicateur=setting.chomage, annee=2022, valeur=Decimal("10"))
    before = snapshot()
    rows = [["Indicateur", "Période", "Valeur"], [CHOMAGE, "2022", "11"]]
    rows += [[CHOMAGE, str(year), "12"] for year in range(2000, 2020)]
    rows += [["Indicateur inconnu", "2023", "1"]]

    report = import_measures(setting.diagnostic, "valeurs.csv", csv(rows), engine=engine)

    assert report.errors == [
        (
            23,
            "Indicateur « Indicateur inconnu » introuvable dans ce diagnostic (casse et "
            "accents ignorés) : vérifiez son libellé ou donnez son identifiant.",
        )
    ]
    assert snapshot() == before


def test_an_unreadable_file_is_refused_with_a_french_message(setting):
    report = import_measures(setting.diagnostic, "valeurs.csv", b"%PDF-1.7 ...")

    assert report.errors == [
        (
            None,
            "Ce fichier est un PDF : enregistrez le tableau au format Excel (.xlsx), "
            "ODS (LibreOffice) ou CSV.",
        )
    ]


def test_a_table_without_the_expected_columns_is_refused(setting):
    report = import_measures(
        setting.diagnostic, "valeurs.csv", csv([["Nom", "Prénom"], ["Dupont", "Jean"]])
    )

    assert not report.ok
    assert report.errors[0][1].startswith("Aucune ligne d'en-tête reconnue : il faut une colonne")


def test_the_row_limit_comes_from_the_settings(setting, settings):
    settings.IMPORT_MESURES_MAX_ROWS = 3
    rows = [["Indicateur", "Période", "Valeur"]] + [[CHOMAGE, str(2000 + i), "1"] for i in range(3)]

    report = import_measures(setting.diagnostic, "valeurs.csv", csv(rows))

    assert report.errors == [
        (None, "Le fichier dépasse la limite de 3 lignes : découpez-le en plusieurs fichiers.")
    ]


def test_many_errors_are_counted_beyond_those_listed(setting, monkeypatch):
    monkeypatch.setattr(measures, "MAX_REPORTED_ERRORS", 2)
    rows = [["Indicateur", "Période", "Valeur"]] + [[CHOMAGE, "2023", "x"]] * 5

    report = import_measures(setting.diagnostic, "valeurs.csv", csv(rows))

    assert report.error_count == 5
    assert len(report.errors) == 2
    assert report.as_lines()[-1] == "  … et 3 autres erreurs."


# Idempotency and updates ------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_second_import_of_the_same_file_changes_nothing(setting, user, engine):
    content = xlsx(
        [
            ["Indicateur", "Quartier", "2022", "2023", "Commentaire"],
            [CHOMAGE, "QN00304M", 25, 24.5, "Source Insee"],
            ["Ambiance dans le quartier", "", "Tendue", "Apaisée", ""],
        ]
    )
    first = import_measures(setting.diagnostic, "valeurs.xlsx", content, user=user, engine=engine)
    assert first.created == 4
    before = snapshot()

    second = import_measures(setting.diagnostic, "valeurs.xlsx", content, user=user, engine=engine)

    assert second.ok
    assert (second.created, second.updated, second.unchanged) == (0, 0, 4)
    assert second.as_lines()[0] == NOTHING_NEW
    assert second.import_record is None
    assert snapshot() == before


@pytest.mark.parametrize("engine", ENGINES)
def test_a_changed_value_updates_the_measure_and_shows_in_its_history(setting, user, engine):
    rows = [LONG_HEADER, [CHOMAGE, "QN00304M", "2023", "24,5", "Insee", ""]]
    import_measures(setting.diagnostic, "v1.csv", csv(rows), engine=engine)
    rows[1][3] = "23,9"
    rows.append([CHOMAGE, "QN00305M", "2023", "30", "Insee", ""])

    report = import_measures(setting.diagnostic, "v2.csv", csv(rows), user=user, engine=engine)

    assert (report.created, report.updated, report.unchanged) == (1, 1, 0)
    assert report.as_lines()[2] == "Mesures : 1 créée, 1 mise à jour, 0 inchangée"
    changed = mesure(setting.chomage, 2023, setting.rive_gauche)
    assert changed.valeur == Decimal("23.9")
    assert changed.version == 2
    assert changed.saisi_par == user
    latest, previous = changed.history.order_by("-history_id")[:2]
    assert (previous.valeur, latest.valeur) == (Decimal("24.5"), Decimal("23.9"))
    assert latest.history_type == "~"
    assert latest.history_change_reason == import_change_reason(report.import_record)
    assert latest.history_user == user
    assert report.import_record.nom_fichier == "v2.csv"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_file_without_source_column_keeps_the_measures_sources(setting, engine):
    Mesure.objects.create(
        indicateur=setting.chomage, annee=2023, valeur=Decimal("12"), source="Insee"
    )
    content = csv([["Indicateur", "Période", "Valeur"], [CHOMAGE, "2023", "13"]])

    report = import_measures(setting.diagnostic, "valeurs.csv", content, engine=engine)

    assert report.updated == 1
    assert mesure(setting.chomage, 2023).source == "Insee"


@pytest.mark.parametrize("engine", ENGINES)
def test_an_imported_value_replaces_a_demonstration_one(setting, engine):
    Mesure.objects.create(indicateur=setting.chomage, annee=2023, valeur=12, fictive=True)
    content = csv([["Indicateur", "Période", "Valeur"], [CHOMAGE, "2023", "12"]])

    report = import_measures(setting.diagnostic, "valeurs.csv", content, engine=engine)

    assert report.updated == 1
    assert not mesure(setting.chomage, 2023).fictive


@pytest.mark.parametrize("engine", ENGINES)
def test_a_dry_run_reports_the_counts_and_writes_nothing(setting, engine):
    Mesure.objects.create(indicateur=setting.chomage, annee=2022, valeur=Decimal("10"))
    before = snapshot()
    content = csv(
        [["Indicateur", "Période", "Valeur"], [CHOMAGE, "2022", "11"], [CHOMAGE, "2023", "9"]]
    )

    report = import_measures(
        setting.diagnostic, "valeurs.csv", content, dry_run=True, engine=engine
    )

    assert report.ok
    assert (report.created, report.updated, report.unchanged) == (1, 1, 0)
    assert report.as_lines()[0] == (
        "Simulation de l'import de « valeurs.csv » : rien n'a été enregistré."
    )
    assert report.import_record is None
    assert snapshot() == before


# Matching ---------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_indicators_match_by_libelle_ignoring_case_and_accents_or_by_identifier(setting, engine):
    content = csv(
        [
            ["Identifiant", "Indicateur", "Période", "Valeur"],
            ["", "  TAUX DE CHOMAGE DES 15-64 ANS ", "2021", "1"],
            ["", "taux de  chômage des 15-64 ans", "2022", "2"],
            [str(setting.animateurs_jeunesse.pk), "", "2022", "3"],
            [str(setting.animateurs_emploi.pk), "Nombre d'animateurs", "2022", "4"],
        ]
    )

    report = import_measures(setting.diagnostic, "valeurs.csv", content, engine=engine)

    assert report.ok, lines(report)
    assert sorted(setting.chomage.mesures.values_list("annee", flat=True)) == [2021, 2022]
    assert mesure(setting.animateurs_jeunesse, 2022).valeur == 3
    assert mesure(setting.animateurs_emploi, 2022).valeur == 4


@pytest.mark.parametrize("engine", ENGINES)
def test_quartiers_match_by_code_or_name_and_territory_rows_have_none(setting, engine):
    content = csv(
        [
            ["Indicateur", "Quartier", "Période", "Valeur"],
            [CHOMAGE, "qn00304m", "2021", "1"],
            [CHOMAGE, "RIVE GAUCHE", "2022", "2"],
            [CHOMAGE, "Bien Assis", "2022", "3"],
            [CHOMAGE, "Fontbouillant (QN00305M)", "2022", "4"],
            [CHOMAGE, "", "2021", "5"],
            [CHOMAGE, "Montluçon Communauté", "2022", "6"],
            [CHOMAGE, "Ensemble du territoire", "2023", "7"],
        ]
    )

    report = import_measures(setting.diagnostic, "valeurs.csv", content, engine=engine)

    assert report.ok, lines(report)
    assert sorted(
        setting.chomage.mesures.values_list("quartier__code", "annee", "valeur"),
        key=str,
    ) == sorted(
        [
            ("QN00304M", 2021, 1),
            ("QN00304M", 2022, 2),
            ("QN00306M", 2022, 3),
            ("QN00305M", 2022, 4),
            (None, 2021, 5),
            (None, 2022, 6),
            (None, 2023, 7),
        ],
        key=str,
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_each_type_of_indicator_takes_its_kind_of_value(setting, engine):
    content = csv(
        [
            ["Indicateur", "Période", "Valeur"],
            ["Ambiance dans le quartier", "2023", "Apaisée depuis l'été"],
            ["Ambiance dans le quartier", "2024", "12"],
            ["Nombre d'interventions", "2023", "1 204"],
            ["Nombre d'interventions", "2024", "En hausse, chiffres à venir"],
        ]
    )

    report = import_measures(setting.diagnostic, "valeurs.csv", content, engine=engine)

    assert report.ok, lines(report)
    assert (mesure(setting.ambiance, 2023).valeur, mesure(setting.ambiance, 2023).texte) == (
        None,
        "Apaisée depuis l'été",
    )
    assert mesure(setting.ambiance, 2024).texte == "12"
    # "À préciser" indicators: a number is a valeur, any other text a constat.
    assert mesure(setting.interventions, 2023).valeur == Decimal("1204")
    assert mesure(setting.interventions, 2024).texte == "En hausse, chiffres à venir"
    for measure in Mesure.objects.all():
        measure.full_clean()  # the model's rule on valeur and texte holds


# Both paths give the same result ----------------------------------------------------------


def _state():
    measures_ = sorted(
        Mesure.objects.values_list(
            "indicateur_id",
            "quartier_id",
            "annee",
            "type_periode",
            "numero_periode",
            "valeur",
            "texte",
            "source",
            "commentaire",
            "version",
            "saisi_par_id",
            "fictive",
        ),
        key=str,
    )
    history = sorted(
        Mesure.history.values_list(
            "indicateur_id", "quartier_id", "annee", "valeur", "history_type", "history_user_id"
        ),
        key=str,
    )
    reasons = set(Mesure.history.values_list("history_change_reason", flat=True))
    return measures_, history, len(reasons)


def _import_every_way(diagnostic, filename, content, user):
    results = {}
    for engine in ENGINES:
        with transaction.atomic():
            report = import_measures(diagnostic, filename, content, user=user, engine=engine)
            results[engine] = (
                (report.created, report.updated, report.unchanged),
                report.errors,
                report.warnings,
                _state(),
            )
            transaction.set_rollback(True)
    return results


def test_every_path_gives_the_same_result(setting, user):
    Mesure.objects.create(indicateur=setting.chomage, annee=2021, valeur=Decimal("20"))
    Mesure.objects.create(
        indicateur=setting.chomage, annee=2022, valeur=Decimal("21"), quartier=setting.bien_assis
    )
    Mesure.objects.create(indicateur=setting.ambiance, annee=2022, texte="Calme", source="Ville")
    content = xlsx(
        [
            ["Indicateur", "Quartier", "2021", "2022", "2023", "Source", "Commentaire"],
            [CHOMAGE, "", 20, 22, 23, "", ""],
            [CHOMAGE, "Bien-Assis", 19, 21, "nd", "Insee", "provisoire"],
            ["Ambiance dans le quartier", "", "", "Calme", "Tendue", "Ville", ""],
            ["Nombre d'interventions", "QN00305M", 3, "à venir", "", "", ""],
        ]
    )

    results = _import_every_way(setting.diagnostic, "valeurs.xlsx", content, user)

    assert all(result == results["resource"] for result in results.values())
    assert results["bulk"][0] == (6, 1, 2)


def test_every_path_reports_the_same_errors(setting, user):
    content = csv(
        [
            ["Indicateur", "Quartier", "Période", "Valeur"],
            [CHOMAGE, "QN00304M", "2023", "abc"],
            [CHOMAGE, "QN00304M", "2023", "12"],
            [CHOMAGE, "QN00304M", "2023", "13"],
            ["Inconnu", "Ailleurs", "2023-13", "1"],
            ["Nombre d'animateurs", "", "2023", "1"],
        ]
    )

    results = _import_every_way(setting.diagnostic, "valeurs.csv", content, user)

    assert all(result == results["resource"] for result in results.values())
    assert [line for line, _ in results["bulk"][1]] == [2, 4, 5, 6]


def test_small_files_take_the_resource_path_and_large_ones_a_bulk_path(setting, monkeypatch):
    monkeypatch.setattr(measures, "RESOURCE_MAX_ROWS", 2)
    small = csv([["Indicateur", "Période", "Valeur"], [CHOMAGE, "2021", "1"]])
    large = csv([["Indicateur", "Période", "Valeur"]] + [[CHOMAGE, y, "1"] for y in (22, 23, 24)])
    large = (
        large.replace(b";22;", b";2022;").replace(b";23;", b";2023;").replace(b";24;", b";2024;")
    )

    assert import_measures(setting.diagnostic, "a.csv", small).engine == "resource"
    bulk = "copy" if connection.vendor == "postgresql" else "bulk"
    assert import_measures(setting.diagnostic, "b.csv", large).engine == bulk
    assert setting.chomage.mesures.count() == 4


# The resource alone: the admin's flat export and import ----------------------------------


def test_the_resource_exports_measures_that_import_back_unchanged(setting):
    Mesure.objects.create(
        indicateur=setting.chomage,
        annee=2024,
        type_periode="trimestre",
        numero_periode=2,
        quartier=setting.rive_gauche,
        valeur=Decimal("1234.5"),
        source="Insee",
    )
    Mesure.objects.create(indicateur=setting.ambiance, annee=2023, texte="Apaisée")

    dataset = MesureResource().export()

    assert dataset.headers == [
        "Identifiant",
        "Indicateur",
        "Quartier",
        "Période",
        "Nature",
        "Valeur",
        "Numérateur",
        "Dénominateur",
        "Source",
        "Commentaire",
    ]
    assert sorted(dataset, key=str) == sorted(
        [
            (
                str(setting.chomage.pk),
                CHOMAGE,
                "QN00304M",
                "T2 2024",
                "Valeur",
                "1234,5",
                "",
                "",
                "Insee",
                "",
            ),
            (
                str(setting.ambiance.pk),
                "Ambiance dans le quartier",
                "Ensemble du territoire",
                "2023",
                "Valeur",
                "Apaisée",
                "",
                "",
                "",
                "",
            ),
        ],
        key=str,
    )
    before = snapshot()
    report = import_measures(setting.diagnostic, "export.csv", dataset.export("csv").encode())
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert snapshot() == before


def test_the_resource_imports_a_flat_table_by_itself(setting, user):
    record = Import.objects.create(
        diagnostic=setting.diagnostic,
        nature=Import.Nature.MESURES,
        nom_fichier="admin.csv",
        sha256="0" * 64,
        taille=1,
    )
    dataset = tablib.Dataset(
        ["", CHOMAGE, "QN00304M", "2023", "12,5"],
        ["", CHOMAGE, "Nulle part", "2023", "1"],
        headers=["Identifiant", "Indicateur", "Quartier", "Période", "Valeur"],
    )
    resource = MesureResource(diagnostic=setting.diagnostic, import_record=record, user=user)

    result = resource.import_data(dataset, dry_run=True)

    assert result.totals["new"] == 1
    assert [row.number for row in result.invalid_rows] == [2]
    assert not Mesure.objects.exists()


# The command ------------------------------------------------------------------------------


def test_the_command_imports_a_file_and_prints_the_report(setting, tmp_path):
    path = tmp_path / "valeurs.csv"
    path.write_bytes(csv([["Indicateur", "Période", "Valeur"], [CHOMAGE, "2023", "12"]]))
    out = StringIO()

    call_command("import_mesures", str(path), diagnostic=setting.diagnostic.slug, stdout=out)

    assert out.getvalue().splitlines()[0] == "Import de « valeurs.csv » enregistré."
    assert mesure(setting.chomage, 2023).valeur == 12


def test_the_command_dry_run_writes_nothing(setting, tmp_path):
    path = tmp_path / "valeurs.csv"
    path.write_bytes(csv([["Indicateur", "Période", "Valeur"], [CHOMAGE, "2023", "12"]]))
    out = StringIO()

    call_command(
        "import_mesures", str(path), "--dry-run", diagnostic=setting.diagnostic.slug, stdout=out
    )

    assert "Simulation" in out.getvalue()
    assert not Mesure.objects.exists()


def test_the_command_fails_with_the_report_on_a_bad_row(setting, tmp_path):
    path = tmp_path / "valeurs.csv"
    path.write_bytes(csv([["Indicateur", "Période", "Valeur"], [CHOMAGE, "2023", "douze"]]))

    with pytest.raises(CommandError) as error:
        call_command("import_mesures", str(path), diagnostic=setting.diagnostic.slug)

    assert str(error.value).startswith("Fichier « valeurs.csv » refusé")
    assert "ligne 2 : Valeur « douze » (2023)" in str(error.value)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["absent.csv", "--diagnostic", "inconnu"], "Aucun diagnostic ne porte"),
        (["absent.csv", "--diagnostic", "{slug}"], "Fichier introuvable : absent.csv"),
        (
            ["absent.csv", "--diagnostic", "{slug}", "--utilisateur", "personne"],
            "Aucun compte ne porte le nom « personne ».",
        ),
    ],
)
def test_the_command_explains_what_is_wrong(setting, arguments, message):
    arguments = [argument.format(slug=setting.diagnostic.slug) for argument in arguments]

    with pytest.raises(CommandError, match=message):
        call_command("import_mesures", *arguments)


def test_the_command_records_the_importing_account(setting, user, tmp_path):
    path = tmp_path / "valeurs.csv"
    path.write_bytes(csv([["Indicateur", "Période", "Valeur"], [CHOMAGE, "2023", "12"]]))

    call_command(
        "import_mesures",
        str(path),
        diagnostic=setting.diagnostic.slug,
        utilisateur=user.username,
        stdout=StringIO(),
    )

    assert Import.objects.get().importe_par == user
