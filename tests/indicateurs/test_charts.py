"""The SVG chart of an indicator, drawn on the server: readable without JavaScript, each
series told apart by more than its colour, reference and target drawn, text escaped."""

import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from comptes.roles import Role
from indicateurs import charts, secret
from indicateurs.models import Mesure, TerritoireComparaison
from tests.factories import DiagnosticFactory, PilierFactory, UserFactory
from tests.indicateurs_data import BIEN_ASSIS, RIVE_GAUCHE, qpv, quantitatif, serie

D = Decimal
SVG = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def indicateur():
    diagnostic = DiagnosticFactory()
    quartiers = qpv(diagnostic)
    indicateur = quantitatif(
        diagnostic,
        pilier=PilierFactory(diagnostic=diagnostic),
        libelle="Taux de <b>chômage</b> & « sous-emploi »",
        unite="%",
        reference=(2019, D("22.5")),
        cible=(2030, D(18)),
    )
    serie(indicateur, {2020: "21.4", 2021: "20.1", 2022: "19.75"})
    serie(indicateur, {2020: 26, 2022: "27.5"}, quartiers[RIVE_GAUCHE])
    serie(indicateur, {2021: 24}, quartiers[BIEN_ASSIS])
    return indicateur


def draw(indicateur, role=Role.EQUIPE_VILLE):
    user = UserFactory(role=role, contrat=indicateur.diagnostic.contrat)
    mesures = list(indicateur.mesures.select_related("quartier", "territoire"))
    donnees = charts.chart_data(indicateur, mesures, secret.Secret(indicateur, mesures, user))
    return donnees, str(charts.chart(donnees, ident="g"))


def test_the_chart_is_an_accessible_image_with_a_summary(indicateur):
    donnees, svg = draw(indicateur)
    root = ET.fromstring(svg)  # well-formed XML: the text is escaped

    assert root.get("role") == "img"
    # Named by the title the page shows above it, described by its summary.
    assert root.get("aria-labelledby") == "g-titre"
    assert root.get("aria-describedby") == "g-desc"
    assert root.find(f"{SVG}desc").get("id") == "g-desc"
    assert root.find(f"{SVG}desc").text == (
        "Graphique en courbes de l'indicateur « Taux de <b>chômage</b> & « sous-emploi » », "
        "de 2020 à 2022, 3 séries : Ensemble du territoire, Rive Gauche, Bien-Assis. "
        "Unité : %. Les valeurs figurent dans le tableau qui suit."
    )
    assert root.find(f"{SVG}title").text == (
        "Taux de <b>chômage</b> & « sous-emploi » — Ensemble du territoire, Rive Gauche et "
        "Bien-Assis"
    )
    assert root.find(f"{SVG}title").text == charts.chart_title(donnees)
    assert "<b>" not in svg


def test_the_chart_text_is_never_drawn_smaller_than_12_px_at_its_least_width(indicateur):
    _, svg = draw(indicateur)
    root = ET.fromstring(svg)
    css = (ROOT / "static" / "css" / "indicateurs.css").read_text()
    least_width = int(
        re.search(r"\.defilement-graphique \.graphique \{\s*min-width: (\d+)px", css)[1]
    )
    drawing_width = float(root.get("viewBox").split()[2])

    sizes = {
        float(text.get("font-size", root.get("font-size"))) for text in root.iter(f"{SVG}text")
    }

    assert sizes == {charts.TAILLE_TEXTE}
    assert min(sizes) * least_width / drawing_width >= 12


def test_one_line_per_series_told_apart_by_dashes_and_markers_not_colour_alone(indicateur):
    _, svg = draw(indicateur)
    root = ET.fromstring(svg)

    groups = root.findall(f"{SVG}g[@class='graphique-serie']")
    assert [g.get("data-serie") for g in groups] == [
        "Ensemble du territoire",
        "Rive Gauche",
        "Bien-Assis",
    ]
    lines = [g.find(f"{SVG}path") for g in groups]
    # The territory's three points are joined; Rive Gauche has no 2021 value: its line
    # breaks there; Bien-Assis has one point, no line.
    assert lines[0].get("d").count("L") == 2
    assert lines[1].get("d").count("M") == 2
    assert lines[2] is None
    styles = [
        (line.get("stroke"), line.get("stroke-dasharray")) for line in lines if line is not None
    ]
    assert len(set(styles)) == len(styles)
    assert styles[0][1] is None and styles[1][1]  # solid, then dashed
    markers = [g.find(f"{SVG}g[@class='graphique-point']")[1].tag for g in groups]
    assert markers == [f"{SVG}circle", f"{SVG}rect", f"{SVG}path"]


def test_points_carry_their_value_in_french(indicateur):
    _, svg = draw(indicateur)

    points = re.findall(r'data-periode="([^"]+)" data-valeur="([^"]+)"><title>([^<]+)</title>', svg)

    assert points[:3] == [
        ("2020", "21,4", "Ensemble du territoire, 2020 : 21,4\u00a0%"),
        ("2021", "20,1", "Ensemble du territoire, 2021 : 20,1\u00a0%"),
        ("2022", "19,75", "Ensemble du territoire, 2022 : 19,75\u00a0%"),
    ]


def test_reference_and_target_are_dashed_lines_with_labels(indicateur):
    _, svg = draw(indicateur)
    root = ET.fromstring(svg)

    lines = root.findall(f"{SVG}line[@class='graphique-repere']")
    labels = [text.text for text in root.iter(f"{SVG}text")]

    assert len(lines) == 2
    assert all(line.get("stroke-dasharray") for line in lines)
    assert "Référence (2019) : 22,5\u00a0%" in labels
    assert "Cible 2030 : 18\u00a0%" in labels


def test_the_scale_covers_the_values_the_reference_and_the_target(indicateur):
    _, svg = draw(indicateur)
    ticks = [text.text for text in ET.fromstring(svg).iter(f"{SVG}text")][:6]

    # From 18 (the target) to 27,5 (Rive Gauche in 2022), far from zero.
    assert ticks == ["18", "20", "22", "24", "26", "28"]


@pytest.mark.parametrize(
    ("bas", "haut", "ticks"),
    [
        (D(0), D(100), [0, 20, 40, 60, 80, 100]),
        (D("45.2"), D("52.9"), [44, 46, 48, 50, 52, 54]),
        (D(3), D(8), [0, 2, 4, 6, 8]),
        (D(7), D(7), [6, 6.5, 7, 7.5, 8]),
        (D(0), D(0), [-1, -0.5, 0, 0.5, 1]),
        (D(-12), D(3), [-15, -10, -5, 0, 5]),
        (D("0.001"), D("0.004"), [0, 0.001, 0.002, 0.003, 0.004]),
    ],
)
def test_ticks_are_round_numbers(bas, haut, ticks):
    found = charts.ticks(bas, haut)
    assert [float(tick) for tick in found] == ticks
    assert all(isinstance(tick, Decimal) for tick in found)


def test_the_table_and_the_chart_share_the_same_numbers(indicateur):
    donnees, svg = draw(indicateur)

    from_svg = {
        (serie_, periode): valeur
        for serie_, group in re.findall(r'data-serie="([^"]+)">(.*?)</g></g>', svg)
        for periode, valeur in re.findall(r'data-periode="([^"]+)" data-valeur="([^"]+)"', group)
    }
    from_table = {
        (serie_.libelle, periode): point.texte
        for periode, points in donnees.rangees()
        for serie_, point in zip(donnees.series, points, strict=True)
        if point is not None
    }

    assert from_table == {
        ("Ensemble du territoire", "2020"): "21,4",
        ("Ensemble du territoire", "2021"): "20,1",
        ("Ensemble du territoire", "2022"): "19,75",
        ("Rive Gauche", "2020"): "26",
        ("Rive Gauche", "2022"): "27,5",
        ("Bien-Assis", "2021"): "24",
    }
    assert len(from_svg) == 6
    assert all(from_table[key] == value for key, value in from_svg.items())


def test_no_chart_without_a_value_to_draw():
    diagnostic = DiagnosticFactory()
    indicateur = quantitatif(diagnostic, pilier=PilierFactory(diagnostic=diagnostic))

    donnees, svg = draw(indicateur)

    assert donnees.periodes == []
    assert svg == ""


def test_many_periods_keep_their_labels_apart():
    diagnostic = DiagnosticFactory()
    indicateur = quantitatif(diagnostic, pilier=PilierFactory(diagnostic=diagnostic))
    for year in (2022, 2023, 2024):
        for month in range(1, 13):
            indicateur.mesures.create(
                annee=year, type_periode="mois", numero_periode=month, valeur=D(month)
            )

    _, svg = draw(indicateur)

    labels = re.findall(r'text-anchor="middle" fill="#1c2430">([^<]+)<', svg)
    assert 5 < len(labels) < 36
    assert labels[0] == "01/2022" and labels[-1] == "12/2024"


def test_a_comparison_territory_is_a_grey_dotted_line_after_the_series(indicateur):
    france = TerritoireComparaison.objects.get(code="FM")
    Mesure.objects.create(indicateur=indicateur, annee=2021, territoire=france, valeur=8)
    Mesure.objects.create(indicateur=indicateur, annee=2022, territoire=france, valeur="7.5")

    donnees, svg = draw(indicateur)

    assert [serie.libelle for serie in donnees.series] == [
        "Ensemble du territoire",
        "Rive Gauche",
        "Bien-Assis",
        "France métropolitaine",
    ]
    assert [cells[-1].texte if cells[-1] else None for _, cells in donnees.rangees()] == [
        None,
        "8",
        "7,5",
    ]
    root = ET.fromstring(svg)
    series = {g.get("data-serie"): g for g in root.iter(f"{SVG}g") if g.get("data-serie")}
    line = series["France métropolitaine"].find(f"{SVG}path")
    assert (line.get("stroke"), line.get("stroke-dasharray")) == (
        charts.COULEUR_COMPARAISON,
        charts.TIRETS_COMPARAISON,
    )
    assert series["Rive Gauche"].find(f"{SVG}path").get("stroke") != charts.COULEUR_COMPARAISON
    assert donnees.comparaisons
