"""The tableau de bord: the status rule (pure function on Decimal values), the latest and
previous values, the filters, the exports, and a query count that does not grow."""

import csv
from decimal import Decimal
from io import BytesIO, StringIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from comptes.roles import Role
from indicateurs.models import Indicateur, Mesure
from indicateurs.tableau import Statut, evaluate, load
from tests.factories import DiagnosticFactory, MembreFactory, PilierFactory, UserFactory
from tests.indicateurs_data import BIEN_ASSIS, RIVE_GAUCHE, mesure, qpv, quantitatif, serie
from tests.scale import build_diagnostic

D = Decimal
HAUSSE, BAISSE, STABILITE = (
    Indicateur.Sens.HAUSSE,
    Indicateur.Sens.BAISSE,
    Indicateur.Sens.STABILITE,
)
ATTEINTE, EN_PROGRES, EN_RECUL, SANS_DONNEE = (
    Statut.ATTEINTE,
    Statut.EN_PROGRES,
    Statut.EN_RECUL,
    Statut.SANS_DONNEE,
)


# The status rule --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sens", "derniere", "precedente", "reference", "cible", "statut"),
    [
        # À la hausse: reaching the target, or moving up towards it.
        (HAUSSE, D("30"), D("25"), D("20"), D("30"), ATTEINTE),
        (HAUSSE, D("31.5"), None, None, D("30"), ATTEINTE),
        (HAUSSE, D("26"), D("25"), D("20"), D("30"), EN_PROGRES),
        (HAUSSE, D("24"), D("25"), D("20"), D("30"), EN_RECUL),
        (HAUSSE, D("25"), D("25"), D("20"), D("30"), EN_RECUL),  # unchanged
        # À la baisse: the other way round.
        (BAISSE, D("9.99"), D("12"), D("15"), D("10"), ATTEINTE),
        (BAISSE, D("11"), D("12"), D("15"), D("10"), EN_PROGRES),
        (BAISSE, D("12.0001"), D("12"), D("15"), D("10"), EN_RECUL),
        # No previous period: the reference is the point of comparison.
        (BAISSE, D("14"), None, D("15"), D("10"), EN_PROGRES),
        (HAUSSE, D("14"), None, D("15"), D("30"), EN_RECUL),
        # No target: progress is judged against the previous period, then the reference.
        (HAUSSE, D("14"), D("12"), None, None, EN_PROGRES),
        (BAISSE, D("14"), None, D("12"), None, EN_RECUL),
        # Stabilité: within 5 % of the target (or of the reference without a target).
        (STABILITE, D("104"), D("90"), None, D("100"), ATTEINTE),
        (STABILITE, D("95"), D("90"), None, D("100"), ATTEINTE),
        (STABILITE, D("94"), D("90"), None, D("100"), EN_PROGRES),
        (STABILITE, D("110"), D("106"), None, D("100"), EN_RECUL),
        (STABILITE, D("101"), D("80"), D("100"), None, ATTEINTE),
        (STABILITE, D("120"), D("110"), D("100"), None, EN_RECUL),
        # Stabilité with neither target nor reference: staying where it was.
        (STABILITE, D("50"), D("49"), None, None, ATTEINTE),
        (STABILITE, D("60"), D("49"), None, None, EN_RECUL),
        # Not evaluable.
        (HAUSSE, None, D("25"), D("20"), D("30"), SANS_DONNEE),
        ("", D("26"), D("25"), D("20"), D("30"), SANS_DONNEE),
        (HAUSSE, D("26"), None, None, D("30"), SANS_DONNEE),
        # Negative values and zero.
        (HAUSSE, D("-1"), D("-3"), None, D("0"), EN_PROGRES),
        (STABILITE, D("0"), D("2"), None, D("0"), ATTEINTE),
    ],
)
def test_status_against_reference_and_target(sens, derniere, precedente, reference, cible, statut):
    assert evaluate(sens, derniere, precedente, reference, cible).statut == statut


def test_every_status_says_why():
    assert evaluate(BAISSE, D(9), D(12), None, D(10)).motif == "Cible atteinte."
    assert evaluate(BAISSE, D(11), D(12), None, D(10)).motif == (
        "Se rapproche de l'objectif depuis la période précédente."
    )
    assert evaluate(BAISSE, D(14), None, D(12), D(10)).motif == (
        "S'éloigne de l'objectif depuis la valeur de référence."
    )
    assert evaluate(HAUSSE, D(12), D(12), None, D(20)).motif == (
        "Inchangé depuis la période précédente, objectif non atteint."
    )
    assert evaluate("", D(1)).motif == "L'évolution souhaitée n'est pas renseignée."
    assert evaluate(HAUSSE, None).motif == "Aucune valeur chiffrée."
    assert "pas d'évolution" in evaluate(HAUSSE, D(1), None, None, D(5)).motif


# The latest measures ------------------------------------------------------------------


def test_the_previous_value_is_the_same_period_of_an_earlier_year():
    indicateur = quantitatif(
        DiagnosticFactory(),
        pilier=PilierFactory(),
        periodicite=Indicateur.Periodicite.TRIMESTRIELLE,
    )
    for annee, numero, valeur in ((2023, 1, 10), (2023, 2, 11), (2024, 1, 12), (2024, 2, 9)):
        mesure(indicateur, annee, valeur, type_periode="trimestre", numero_periode=numero)

    portee = load([indicateur], None, UserFactory())[indicateur.pk]

    assert (portee.derniere.periode_libelle, portee.precedente.periode_libelle) == (
        "T2 2024",
        "T2 2023",
    )


def test_values_of_another_kind_of_period_are_not_compared():
    # An older import put "T1 2025" into a yearly series.
    indicateur = quantitatif(
        DiagnosticFactory(), pilier=PilierFactory(), periodicite=Indicateur.Periodicite.ANNUELLE
    )
    serie(indicateur, {2023: 20, 2024: 18})
    mesure(indicateur, 2025, 12, type_periode="trimestre", numero_periode=1)

    portee = load([indicateur], None, UserFactory())[indicateur.pk]

    assert (portee.derniere.periode_libelle, portee.precedente.periode_libelle) == (
        "2024",
        "2023",
    )


def test_without_periodicity_the_latest_value_gives_the_kind():
    indicateur = quantitatif(DiagnosticFactory(), pilier=PilierFactory())
    mesure(indicateur, 2023, 10)
    mesure(indicateur, 2024, 13, type_periode="trimestre", numero_periode=2)

    portee = load([indicateur], None, UserFactory())[indicateur.pk]

    assert portee.derniere.periode_libelle == "T2 2024"
    assert portee.precedente is None


def test_each_series_has_its_own_latest_values():
    diagnostic = DiagnosticFactory()
    quartiers = qpv(diagnostic)
    indicateur = quantitatif(diagnostic, pilier=PilierFactory(diagnostic=diagnostic))
    serie(indicateur, {2022: 10, 2023: 9})
    serie(indicateur, {2021: 20, 2024: 18}, quartiers[RIVE_GAUCHE])
    user = UserFactory()

    territoire = load([indicateur], None, user)[indicateur.pk]
    rive_gauche = load([indicateur], quartiers[RIVE_GAUCHE], user)[indicateur.pk]
    bien_assis = load([indicateur], quartiers[BIEN_ASSIS], user)[indicateur.pk]

    assert (territoire.derniere.valeur, territoire.precedente.valeur) == (D(9), D(10))
    assert (rive_gauche.derniere.valeur, rive_gauche.precedente.valeur) == (D(18), D(20))
    assert bien_assis.derniere is None


# The page --------------------------------------------------------------------------------


@pytest.fixture
def tableau(montlucon):
    """Montluçon's seed with three indicators made quantitative and given values."""
    quartiers = qpv(montlucon)
    piliers = {p.numero: p for p in montlucon.piliers.all()}
    chomage = quantitatif(
        montlucon,
        pilier=piliers[2],
        libelle="Taux de chômage des 15-64 ans",
        source_donnees="Insee",
        reference=(2019, D("22.5")),
        cible=(2030, D("18")),
    )
    serie(chomage, {2022: "21.4", 2023: "20.1"})
    serie(chomage, {2022: "26", 2023: "27.5"}, quartiers[RIVE_GAUCHE])
    lecture = quantitatif(
        montlucon,
        pilier=piliers[1],
        libelle="Enfants inscrits au CLAS",
        unite="enfants",
        sens_souhaite=Indicateur.Sens.HAUSSE,
        source_donnees="CAF",
        cible=(2030, D("120")),
    )
    serie(lecture, {2022: 100, 2023: 125})
    return {"chomage": chomage, "lecture": lecture, "quartiers": quartiers}


def dashboard(client, diagnostic, **params):
    response = client.get(reverse("indicateurs:tableau_de_bord", args=[diagnostic.slug]), params)
    assert response.status_code == 200
    return response


def rows_by_libelle(response):
    return {row.indicateur.libelle: row for row in response.context["lignes"]}


def test_the_dashboard_lists_every_indicator_with_its_latest_value_and_status(
    client, montlucon, tableau
):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=montlucon.contrat))

    response = dashboard(client, montlucon)

    rows = rows_by_libelle(response)
    assert len(rows) == 18 + 2
    chomage = rows["Taux de chômage des 15-64 ans"]
    assert (chomage.valeur, chomage.derniere.annee) == ("20,1\u00a0%", 2023)
    assert (chomage.evolution, chomage.precedente.annee) == ("-1,3", 2022)
    assert chomage.statut == EN_PROGRES
    assert rows["Enfants inscrits au CLAS"].statut == ATTEINTE
    assert rows["Nombre de personne sans permis de conduire"].statut == SANS_DONNEE
    content = response.content.decode()
    assert "Tableau de bord des indicateurs" in content
    assert "20,1\u00a0%" in content
    assert "-1,3" in content
    assert "depuis 2022" in content
    # One table per pilier; the indicators link to their page.
    assert content.count('<table class="tableau tableau-bord">') == 3
    assert reverse("indicateurs:detail", args=[montlucon.slug, tableau["chomage"].pk]) in content
    counts = dict(response.context["statuts"])
    assert counts == {ATTEINTE: 1, EN_PROGRES: 1, EN_RECUL: 0, SANS_DONNEE: 18}


def test_the_quartier_filter_shows_the_values_of_that_quartier(client, montlucon, tableau):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=montlucon.contrat))

    response = dashboard(client, montlucon, quartier=RIVE_GAUCHE)

    chomage = rows_by_libelle(response)["Taux de chômage des 15-64 ans"]
    assert chomage.valeur == "27,5\u00a0%"
    assert chomage.statut == EN_RECUL
    assert "valeurs : Rive Gauche" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"statut": "atteinte"}, ["Enfants inscrits au CLAS"]),
        ({"statut": "en_progres"}, ["Taux de chômage des 15-64 ans"]),
        ({"source": "Insee"}, ["Taux de chômage des 15-64 ans"]),
        ({"source": "CAF", "statut": "en_recul"}, []),
        ({"type": "quantitatif"}, ["Enfants inscrits au CLAS", "Taux de chômage des 15-64 ans"]),
    ],
)
def test_filters_by_status_source_and_type(client, montlucon, tableau, params, expected):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=montlucon.contrat))

    response = dashboard(client, montlucon, **params)

    assert sorted(rows_by_libelle(response)) == expected


def test_filters_by_pilier_and_theme(client, montlucon, tableau):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=montlucon.contrat))
    pilier_2 = montlucon.piliers.get(numero=2)
    theme = tableau["chomage"].sous_theme.theme

    by_pilier = rows_by_libelle(dashboard(client, montlucon, pilier=pilier_2.pk))
    by_theme = rows_by_libelle(dashboard(client, montlucon, theme=theme.pk))

    assert "Taux de chômage des 15-64 ans" in by_pilier
    assert "Enfants inscrits au CLAS" not in by_pilier
    assert all(row.indicateur.theme_effectif.pilier == pilier_2 for row in by_pilier.values())
    assert list(by_theme) == ["Taux de chômage des 15-64 ans"]


def test_a_pilier_of_another_diagnostic_is_refused_with_a_message(client, montlucon, tableau):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=montlucon.contrat))
    other = PilierFactory()

    response = dashboard(client, montlucon, pilier=other.pk, statut="inconnu")

    assert response.context["lignes"] == []
    content = response.content.decode()
    assert "Filtres à corriger" in content
    assert "Sélectionnez un choix valide" in content


def test_the_source_menu_offers_the_sources_of_the_diagnostic(client, montlucon, tableau):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=montlucon.contrat))

    response = dashboard(client, montlucon)

    choices = [value for value, _ in response.context["filter"].form.fields["source"].choices]
    assert choices == ["", "CAF", "Insee"]


# Exports ---------------------------------------------------------------------------------


def export(client, diagnostic, export_format, **params):
    url = reverse("indicateurs:tableau_de_bord_export", args=[diagnostic.slug, export_format])
    response = client.get(url, params)
    assert response.status_code == 200
    if export_format == "csv":
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        return list(csv.reader(StringIO(text), delimiter=";"))
    sheet = load_workbook(BytesIO(response.content)).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_the_csv_export_has_the_rows_of_the_filtered_dashboard(client, montlucon, tableau):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=montlucon.contrat))

    rows = export(client, montlucon, "csv", source="Insee")

    header, row = rows
    values = dict(zip(header, row, strict=True))
    assert values["Indicateur"] == "Taux de chômage des 15-64 ans"
    assert values["Série"] == "Ensemble du territoire"
    assert values["Dernière valeur"] == "20,1"
    assert values["Évolution"] == "-1,3"
    assert values["Valeur de référence"] == "22,5"
    assert values["Statut"] == "En progrès"
    assert values["Donnée fictive"] == "non"


def test_the_xlsx_export_writes_numbers_as_numbers(client, montlucon, tableau):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=montlucon.contrat))

    rows = export(client, montlucon, "xlsx", source="Insee", quartier=RIVE_GAUCHE)

    header, row = rows
    values = dict(zip(header, row, strict=True))
    assert values["Série"] == "Rive Gauche"
    assert values["Dernière valeur"] == 27.5
    assert values["Évolution"] == 1.5
    # Rive Gauche is compared with its own target: it has none, it never borrows 18.
    assert values["Valeur cible"] == "pas de cible pour ce quartier"
    assert values["Statut"] == "En recul"
    assert values["Explication du statut"].endswith("Pas de cible pour ce quartier.")


def test_a_libelle_never_becomes_a_formula_in_the_exports(client, montlucon, tableau):
    client.force_login(UserFactory(role=Role.EQUIPE_VILLE, contrat=montlucon.contrat))
    tableau["chomage"].libelle = '=HYPERLINK("http://exemple.org")'
    tableau["chomage"].source_donnees = "@Insee"
    tableau["chomage"].save()

    csv_rows = export(client, montlucon, "csv", source="@Insee")
    xlsx_rows = export(client, montlucon, "xlsx", source="@Insee")

    assert csv_rows[1][3] == '\'=HYPERLINK("http://exemple.org")'
    assert csv_rows[1][csv_rows[0].index("Évolution")] == "-1,3"  # a number keeps its sign
    assert xlsx_rows[1][3] == '=HYPERLINK("http://exemple.org")'  # a string cell


def test_invalid_filters_send_the_export_back_to_the_page(client, montlucon, tableau):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=montlucon.contrat))
    url = reverse("indicateurs:tableau_de_bord_export", args=[montlucon.slug, "csv"])

    response = client.get(url, {"statut": "inconnu"})

    assert response.status_code == 302
    assert response["Location"] == (
        reverse("indicateurs:tableau_de_bord", args=[montlucon.slug]) + "?statut=inconnu"
    )


# Query counts ------------------------------------------------------------------------------


def with_measures(built, years):
    """Gives every indicator of a built diagnostic values for the territory and each of its
    quartiers over `years` years."""
    quartiers = list(built.diagnostic.quartiers.all())
    indicateurs = Indicateur.objects.du_diagnostic(built.diagnostic)
    indicateurs.update(type=Indicateur.Type.QUANTITATIF, sens_souhaite=Indicateur.Sens.HAUSSE)
    Mesure.objects.bulk_create(
        Mesure(indicateur=indicateur, annee=2010 + year, quartier=quartier, valeur=D(year))
        for indicateur in indicateurs
        for quartier in [None, *quartiers[:3]]
        for year in range(years)
    )
    return built


def measures_of(built):
    indicateurs = Indicateur.objects.du_diagnostic(built.diagnostic)
    return Mesure.objects.filter(indicateur__in=indicateurs).count()


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


PAGES = {
    "tableau_de_bord": lambda b: reverse("indicateurs:tableau_de_bord", args=[b.diagnostic.slug]),
    "filtré par quartier": lambda b: (
        reverse("indicateurs:tableau_de_bord", args=[b.diagnostic.slug])
        + f"?quartier={b.diagnostic.quartiers.first().code}&statut=en_progres"
    ),
    "export xlsx": lambda b: reverse(
        "indicateurs:tableau_de_bord_export", args=[b.diagnostic.slug, "xlsx"]
    ),
    "export csv": lambda b: reverse(
        "indicateurs:tableau_de_bord_export", args=[b.diagnostic.slug, "csv"]
    ),
}


def test_the_dashboard_runs_as_many_queries_at_seed_size_as_ten_times_larger(client):
    """Session, user and roles (3), the diagnostic (1), the menus of the filters: thèmes,
    quartiers, sources (3), the indicators (1) and their latest measures (1)."""
    small = with_measures(build_diagnostic(1), years=3)
    large = with_measures(build_diagnostic(10), years=30)
    partner = UserFactory(role=Role.PARTENAIRE, contrat=small.diagnostic.contrat)
    MembreFactory(contrat=large.diagnostic.contrat, compte=partner, role=Role.PARTENAIRE)
    client.force_login(partner)
    assert measures_of(large) > 10 * measures_of(small)

    at_seed_size = {page: count_queries(client, url(small)) for page, url in PAGES.items()}
    ten_times_larger = {page: count_queries(client, url(large)) for page, url in PAGES.items()}

    expected = {"tableau_de_bord": 10, "filtré par quartier": 10, "export xlsx": 8, "export csv": 8}
    assert at_seed_size == expected
    assert ten_times_larger == expected
