"""Reading the cells of a file of measures: periods, French numbers, headers, layouts."""

from decimal import Decimal

import pytest

from indicateurs.imports import Layout, read_measures
from indicateurs.imports.reader import Role, header_role
from indicateurs.imports.values import (
    Period,
    format_number,
    is_no_data,
    is_period,
    parse_number,
    parse_period,
)


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("2023", Period(2023, "annee", 0)),
        (" Année 2023 ", Period(2023, "annee", 0)),
        ("T1 2024", Period(2024, "trimestre", 1)),
        ("t4-2024", Period(2024, "trimestre", 4)),
        ("2024-T1", Period(2024, "trimestre", 1)),
        ("2024 T2", Period(2024, "trimestre", 2)),
        ("Q3 2024", Period(2024, "trimestre", 3)),
        ("1er trimestre 2024", Period(2024, "trimestre", 1)),
        ("3e trimestre 2024", Period(2024, "trimestre", 3)),
        ("Trimestre 2 2024", Period(2024, "trimestre", 2)),
        ("03/2024", Period(2024, "mois", 3)),
        ("3/2024", Period(2024, "mois", 3)),
        ("2024-03", Period(2024, "mois", 3)),
        ("mars 2024", Period(2024, "mois", 3)),
        ("Févr. 2024", Period(2024, "mois", 2)),
        ("décembre 2024", Period(2024, "mois", 12)),
        ("2024-05-01", Period(2024, "mois", 5)),  # an Excel date cell, read by calamine
        ("2024-05-01 00:00:00", Period(2024, "mois", 5)),  # read by openpyxl
        ("01/05/2024", Period(2024, "mois", 5)),
        ("S1 2024", Period(2024, "semestre", 1)),
        ("s2-2024", Period(2024, "semestre", 2)),
        ("2024-S1", Period(2024, "semestre", 1)),
        ("2024 S2", Period(2024, "semestre", 2)),
        ("1er semestre 2024", Period(2024, "semestre", 1)),
        ("2e semestre 2024", Period(2024, "semestre", 2)),
        ("2ème semestre 2024", Period(2024, "semestre", 2)),
        ("Semestre 1 2024", Period(2024, "semestre", 1)),
    ],
)
def test_periods_are_read_in_every_usual_form(text, period):
    assert parse_period(text) == period


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "période manquante."),
        ("T5 2024", "période « T5 2024 » : trimestre 5 impossible (de 1 à 4)."),
        ("2024-T0", "période « 2024-T0 » : trimestre 0 impossible (de 1 à 4)."),
        ("13/2024", "période « 13/2024 » : mois 13 impossible (de 1 à 12)."),
        ("1890", "période « 1890 » : année 1890 impossible (de 1990 à 2100)."),
        ("S3 2024", "période « S3 2024 » : semestre 3 impossible (1 ou 2)."),
        ("2024-S0", "période « 2024-S0 » : semestre 0 impossible (1 ou 2)."),
        (
            "15/03/2024",
            "période « 15/03/2024 » : c'est une date, pas une période ; écrivez l'année "
            "(2024), le semestre (S1 2024 ou 2024-S1), le trimestre (T1 2024 ou 2024-T1) ou "
            "le mois (03/2024 ou 2024-03).",
        ),
        (
            "l'an dernier",
            "période « l'an dernier » illisible : écrivez l'année (2024), le semestre "
            "(S1 2024 ou 2024-S1), le trimestre (T1 2024 ou 2024-T1) ou le mois (03/2024 ou "
            "2024-03).",
        ),
        ("brumaire 2024", "période « brumaire 2024 » illisible"),
    ],
)
def test_impossible_periods_are_explained(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_period(text)


def test_period_labels_are_those_of_the_pages():
    assert [Period(2024, "annee", 0).libelle, Period(2024, "trimestre", 2).libelle] == [
        "2024",
        "T2 2024",
    ]
    assert Period(2024, "mois", 3).libelle == "03/2024"
    assert Period(2024, "semestre", 1).libelle == "S1 2024"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("12", Decimal("12")),
        ("-3,5", Decimal("-3.5")),
        ("\u22123,5", Decimal("-3.5")),
        ("+2", Decimal("2")),
        ("1 234,5", Decimal("1234.5")),
        ("1\xa0234\xa0567,25", Decimal("1234567.25")),
        ("1\u202f234", Decimal("1234")),
        ("12,5 %", Decimal("12.5")),
        ("12,5%", Decimal("12.5")),
        ("1 500 €", Decimal("1500")),
        ("1234.5", Decimal("1234.5")),
        ("1,234", Decimal("1.234")),  # French: a comma is the decimal separator
        ("1.234.567,5", Decimal("1234567.5")),
        ("1,234,567.5", Decimal("1234567.5")),
        (",5", Decimal("0.5")),
        ("1.5E-3", Decimal("0.0015")),
        ("1e+21", Decimal("1000000000000000000000")),
        ("0.30000000000000004", Decimal("0.3")),
        ("2.71828", Decimal("2.7183")),
    ],
)
def test_numbers_are_read_the_french_way_and_others(text, number):
    assert parse_number(text) == number


@pytest.mark.parametrize(
    "text", ["", "douze", "12,5,3", "1 2,3,4", "#DIV/0!", "NaN", "inf", "12-3"]
)
def test_what_is_not_a_number_is_none(text):
    assert parse_number(text) is None


def test_numbers_are_written_back_the_french_way():
    assert [format_number(Decimal(text)) for text in ("1234.5000", "12.0000", "0.2500")] == [
        "1234,5",
        "12",
        "0,25",
    ]


@pytest.mark.parametrize("text", ["", "  ", "nd", "ND", "n.d.", "s", "-", "–", "NC", "secret"])
def test_cells_saying_there_is_no_value_are_skipped(text):
    assert is_no_data(text)


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("Indicateur", Role.INDICATEUR),
        ("INDICATEURS :", Role.INDICATEUR),
        ("Libellé de l'indicateur", Role.INDICATEUR),
        ("Identifiant", Role.IDENTIFIANT),
        ("Quartier", Role.QUARTIER),
        ("QPV", Role.QUARTIER),
        ("Code QPV", Role.QUARTIER),
        ("Période", Role.PERIODE),
        ("Année", Role.ANNEE),
        ("Trimestre", Role.TRIMESTRE),
        ("Valeur (en %)", Role.VALEUR),
        ("Source", Role.SOURCE),
        ("Commentaires", Role.COMMENTAIRE),
        ("Unité", Role.IGNORED),
        ("Sous-thème", Role.IGNORED),
        ("2023", "period"),
        ("T1 2024", "period"),
        ("T5 2024", "period"),  # a period column, refused when read
        ("Remarque du partenaire", None),
        ("", None),
    ],
)
def test_header_cells_are_recognised(text, role):
    assert header_role(text) == role


def test_is_period_leaves_ordinary_words_alone():
    assert not is_period("Observations")
    assert not is_period("Indicateur")


def test_the_layout_is_recognised_below_a_title_and_unknown_columns_are_reported():
    content = (
        "Valeurs transmises par la CAF;;\r\n"
        ";;\r\n"
        "Indicateur;Période;Valeur;Remarque du partenaire\r\n"
        "Nombre d'allocataires;2023;1 200;à vérifier\r\n"
        "Indicateur;Période;Valeur;Remarque du partenaire\r\n"
        "Nombre d'allocataires;2024;nd;\r\n"
        ";;;\r\n"
        "Nombre d'allocataires;2022;1 100;\r\n"
    ).encode("cp1252")

    table = read_measures("caf.csv", content)

    assert table.layout == Layout.LONG
    assert [(row.line, row.periode, row.valeur) for row in table.rows] == [
        (4, "2023", "1 200"),
        (8, "2022", "1 100"),
    ]
    assert table.warnings == [
        (3, "colonne « Remarque du partenaire » ignorée."),
        (None, "1 valeur non disponible (« nd », « s », « - »…) ignorée."),
    ]


def test_a_long_table_needs_a_period_column():
    table = read_measures("v.csv", b"Indicateur;Valeur\r\nA;1\r\n")

    assert table.errors == [
        (
            1,
            "colonne Période (ou Année) introuvable : il faut une colonne Indicateur (ou "
            "Identifiant) et, soit des colonnes Période (ou Année) et Valeur (une ligne par "
            "valeur), soit une colonne par année ou par trimestre (2023, 2024, T1 2024…) ; "
            "Quartier, Nature, Numérateur, Dénominateur, Source et Commentaire sont "
            "facultatives.",
        )
    ]


def test_a_column_given_twice_is_refused():
    table = read_measures("v.csv", b"Indicateur;Periode;Valeur;Valeurs\r\nA;2023;1;2\r\n")

    assert table.errors == [(1, "la colonne Valeur apparaît deux fois.")]
