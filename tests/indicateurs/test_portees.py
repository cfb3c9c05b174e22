"""The tableau de bord in each scope: a quartier is measured against its own reference and
target, values of like periods are compared, rates show their terms, comparison
territories give a gap, and what a partner is served of a total and its quartiers is what
the secret statistique decides (checked exhaustively in test_secret)."""

import csv
from decimal import Decimal
from io import BytesIO, StringIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from comptes.roles import Role
from indicateurs.models import Indicateur, Mesure, TerritoireComparaison
from indicateurs.tableau import Statut
from tests.factories import UserFactory
from tests.indicateurs.test_secret import view
from tests.indicateurs_data import (
    BIEN_ASSIS,
    FONTBOUILLANT,
    RIVE_GAUCHE,
    mesure,
    qpv,
    repere,
    serie,
)

D = Decimal
EMPLOI = "Nombre de personne très éloignées de l'emploi"
ATTEINTE, EN_PROGRES, EN_RECUL, SANS_DONNEE = (
    Statut.ATTEINTE,
    Statut.EN_PROGRES,
    Statut.EN_RECUL,
    Statut.SANS_DONNEE,
)


@pytest.fixture
def emploi(montlucon):
    """The seed's indicator, completed as France Travail would: wanted down, yearly."""
    qpv(montlucon)
    indicateur = Indicateur.objects.du_diagnostic(montlucon).get(libelle__startswith=EMPLOI)
    indicateur.type = Indicateur.Type.QUANTITATIF
    indicateur.unite = "personnes"
    indicateur.sens_souhaite = Indicateur.Sens.BAISSE
    indicateur.periodicite = Indicateur.Periodicite.ANNUELLE
    indicateur.source_donnees = "France Travail"
    indicateur.save()
    return indicateur


def quartier_of(indicateur, code):
    return indicateur.theme_effectif.pilier.diagnostic.quartiers.get(code=code)


def row(client, indicateur, **params):
    diagnostic = indicateur.theme_effectif.pilier.diagnostic
    response = client.get(reverse("indicateurs:tableau_de_bord", args=[diagnostic.slug]), params)
    assert response.status_code == 200
    (found,) = [r for r in response.context["lignes"] if r.indicateur.pk == indicateur.pk]
    return found


# Statuses against the targets of the same scope -------------------------------------------

# (scope, values {year: value}, reference (year, value) or None, target or None, status,
# words of the explanation)
SCOPES = [
    # The case: Fontbouillant up 91 to 400 while wanted down. Against the
    # territory's target (1 000) it read "atteinte"; against its own (250), en recul.
    (FONTBOUILLANT, {2023: 309, 2024: 400}, (2019, 318), (2030, 250), EN_RECUL, "S'éloigne"),
    # No target of its own: it says so, and never borrows the territory's.
    (FONTBOUILLANT, {2023: 309, 2024: 400}, None, None, EN_RECUL, "Pas de cible pour ce"),
    (FONTBOUILLANT, {2023: 309, 2024: 240}, None, (2030, 250), ATTEINTE, "Cible atteinte"),
    (RIVE_GAUCHE, {2023: 430, 2024: 418}, (2019, 452), (2030, 380), EN_PROGRES, "rapproche"),
    (RIVE_GAUCHE, {2024: 418}, (2019, 452), None, EN_PROGRES, "valeur de référence"),
    (RIVE_GAUCHE, {2024: 418}, None, None, SANS_DONNEE, "Pas de cible pour ce quartier"),
    (BIEN_ASSIS, {}, (2019, 480), (2030, 400), SANS_DONNEE, "Aucune valeur chiffrée"),
    (None, {2023: 1175, 2024: 1190}, (2019, 1250), (2030, 1000), EN_RECUL, "S'éloigne"),
    (None, {2023: 1198, 2024: 1000}, (2019, 1250), (2030, 1000), ATTEINTE, "Cible atteinte"),
    (None, {2023: 1198, 2024: 1175}, None, None, EN_PROGRES, "période précédente"),
]


@pytest.mark.parametrize(("scope", "values", "reference", "cible", "statut", "motif"), SCOPES)
def test_a_series_is_measured_against_the_reference_and_target_of_its_scope(
    client, emploi, scope, values, reference, cible, statut, motif
):
    quartier = quartier_of(emploi, scope) if scope else None
    # The territory's own reference and target are always there: a quartier never uses
    # them (nor the territory those of a quartier).
    if scope:
        repere(emploi, Mesure.Nature.REFERENCE, 2019, 1250)
        repere(emploi, Mesure.Nature.CIBLE, 2030, 1000)
        other = RIVE_GAUCHE if scope == BIEN_ASSIS else BIEN_ASSIS
        repere(emploi, Mesure.Nature.CIBLE, 2030, 9999, quartier_of(emploi, other))
    if reference:
        repere(emploi, Mesure.Nature.REFERENCE, *reference, quartier)
    if cible:
        repere(emploi, Mesure.Nature.CIBLE, *cible, quartier)
    serie(emploi, values, quartier)
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=emploi.diagnostic.contrat))

    found = row(client, emploi, **({"quartier": scope} if scope else {}))

    assert found.statut == statut, found.evaluation.motif
    assert motif in found.evaluation.motif
    if scope and not cible:
        assert found.cible == "pas de cible pour ce quartier"


def test_a_quarter_is_compared_with_the_same_quarter_of_the_year_before(client, emploi):
    emploi.periodicite = Indicateur.Periodicite.TRIMESTRIELLE
    emploi.save()
    for annee, numero, valeur in ((2024, 1, 1300), (2024, 4, 1150), (2025, 1, 1250)):
        mesure(emploi, annee, valeur, type_periode="trimestre", numero_periode=numero)
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=emploi.diagnostic.contrat))

    found = row(client, emploi)

    assert (found.derniere.periode_libelle, found.precedente.periode_libelle) == (
        "T1 2025",
        "T1 2024",
    )
    assert found.evolution == "-50"


# Rates and comparison territories ---------------------------------------------------------


def test_a_rate_shows_its_terms_and_the_gap_to_a_comparison_territory(client, emploi):
    emploi.taux = True
    emploi.unite = ""
    emploi.save()
    rive_gauche = quartier_of(emploi, RIVE_GAUCHE)
    for annee, numerateur, denominateur in ((2023, 130, 500), (2024, 120, 600)):
        Mesure.objects.create(
            indicateur=emploi,
            annee=annee,
            quartier=rive_gauche,
            numerateur=numerateur,
            denominateur=denominateur,
        )
    france = TerritoireComparaison.objects.get(code="FM")
    Mesure.objects.create(indicateur=emploi, annee=2024, territoire=france, valeur=D("7.4"))
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=emploi.diagnostic.contrat))

    found = row(client, emploi, quartier=RIVE_GAUCHE, comparaison="FM")

    assert (found.valeur, found.termes) == ("20\u00a0%", "120 / 600")
    assert found.evolution == "-6"  # 26 % then 20 %
    assert (found.comparaison, found.ecart) == ("7,4\u00a0%", "+12,6")
    page = client.get(
        reverse("indicateurs:tableau_de_bord", args=[emploi.theme_effectif.pilier.diagnostic.slug]),
        {"quartier": RIVE_GAUCHE, "comparaison": "FM"},
    ).content.decode()
    assert "France métropolitaine" in page
    assert "écart +12,6" in page


def test_the_comparison_menu_offers_the_territories_with_values(client, emploi):
    france = TerritoireComparaison.objects.get(code="FM")
    Mesure.objects.create(indicateur=emploi, annee=2024, territoire=france, valeur=12)
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=emploi.diagnostic.contrat))
    diagnostic = emploi.theme_effectif.pilier.diagnostic

    response = client.get(reverse("indicateurs:tableau_de_bord", args=[diagnostic.slug]))
    menu = response.context["filter"].form.fields["comparaison"]

    assert [t.code for t in menu.queryset] == ["FM"]
    bad = client.get(
        reverse("indicateurs:tableau_de_bord", args=[diagnostic.slug]), {"comparaison": "\x00"}
    )
    assert bad.status_code == 200
    assert bad.context["filter"].errors


def test_the_dashboard_with_a_quartier_and_a_comparison_runs_a_fixed_number_of_queries(
    client, emploi, montlucon
):
    france = TerritoireComparaison.objects.get(code="FM")
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=emploi.diagnostic.contrat))
    url = reverse("indicateurs:tableau_de_bord", args=[montlucon.slug])
    params = {"quartier": FONTBOUILLANT, "comparaison": "FM"}

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, params).status_code == 200
        return len(queries)

    emploi.compte_des_personnes = True
    emploi.save()
    serie(emploi, {2023: 300}, quartier_of(emploi, FONTBOUILLANT))
    Mesure.objects.create(indicateur=emploi, annee=2023, territoire=france, valeur=12)
    few = count()
    for indicateur in Indicateur.objects.du_diagnostic(montlucon).exclude(pk=emploi.pk)[:10]:
        indicateur.type = Indicateur.Type.QUANTITATIF
        indicateur.compte_des_personnes = True
        indicateur.save()
        for code in (None, RIVE_GAUCHE, FONTBOUILLANT, BIEN_ASSIS):
            serie(indicateur, {2022: 3, 2023: 40}, quartier_of(indicateur, code) if code else None)
        repere(indicateur, Mesure.Nature.CIBLE, 2030, 20, quartier_of(indicateur, FONTBOUILLANT))
        Mesure.objects.create(indicateur=indicateur, annee=2023, territoire=france, valeur=9)

    assert count() == few


# What a partner is served of a total and its quartiers ------------------------------------

COMBINATIONS = [
    (5, 4, 3),
    (139, 3, 220),
    (0, 0, 140),
    (4, 4, 5),
    (1, 2, 2),
    (30, 0, 0),
    (5, 5, 0),
    (12, 40, 9),
]


def latest_of(rows, indicateur):
    """The "Dernière valeur" of the indicator's row in an export."""
    header, *lines = rows
    (line,) = [line for line in lines if line[header.index("Indicateur")] == indicateur.libelle]
    return line[header.index("Dernière valeur")]


def served_everywhere(client, indicateur):
    """The latest value of each scope (territory, then the three quartiers) as served to a
    partner by the tableau de bord, its CSV and XLSX exports, and the indicator's table."""
    diagnostic = indicateur.theme_effectif.pilier.diagnostic
    scopes = [None, RIVE_GAUCHE, FONTBOUILLANT, BIEN_ASSIS]
    pages, csvs, xlsxs = [], [], []
    for scope in scopes:
        params = {"quartier": scope} if scope else {}
        pages.append(row(client, indicateur, **params).valeur)
        export = reverse("indicateurs:tableau_de_bord_export", args=[diagnostic.slug, "csv"])
        text = b"".join(client.get(export, params).streaming_content).decode("utf-8-sig")
        csvs.append(latest_of(list(csv.reader(StringIO(text), delimiter=";")), indicateur))
        export = reverse("indicateurs:tableau_de_bord_export", args=[diagnostic.slug, "xlsx"])
        sheet = load_workbook(BytesIO(client.get(export, params).content)).active
        rows = [[cell.value for cell in r] for r in sheet.iter_rows()]
        xlsxs.append(latest_of(rows, indicateur))
    detail = client.get(reverse("indicateurs:detail", args=[diagnostic.slug, indicateur.pk]))
    table = detail.context["donnees"].rangees()[-1][1]
    return pages, csvs, xlsxs, [point.texte if point else None for point in table]


@pytest.mark.parametrize("quartiers", COMBINATIONS)
def test_pages_and_exports_serve_what_the_secret_decides(client, emploi, quartiers):
    emploi.compte_des_personnes = True
    emploi.unite = ""
    emploi.save()
    values = (sum(quartiers), *quartiers)
    for code, value in zip((None, RIVE_GAUCHE, FONTBOUILLANT, BIEN_ASSIS), values, strict=True):
        mesure(emploi, 2024, value, quartier_of(emploi, code) if code else None)
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=emploi.diagnostic.contrat))

    expected = ["secret" if value is None else str(value) for value in view(values)]
    pages, csvs, xlsxs, table = served_everywhere(client, emploi)

    assert pages == csvs == table == expected
    assert [str(value) for value in xlsxs] == expected
