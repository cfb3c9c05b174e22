"""Secret statistique: partners never see a small count of people, on any page, export or
chart; staff see the numbers. And numbers are written the French way."""

import csv
import itertools
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from comptes.roles import Role
from indicateurs import secret
from indicateurs.models import Mesure
from indicateurs.tableau import Statut
from tests.factories import DiagnosticFactory, MembreFactory, PilierFactory, UserFactory
from tests.indicateurs_data import (
    BIEN_ASSIS,
    FONTBOUILLANT,
    RIVE_GAUCHE,
    mesure,
    qpv,
    quantitatif,
    serie,
)

D = Decimal


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("12.5000"), "12,5"),
        (D("12"), "12"),
        (D("1234567.25"), "1\u202f234\u202f567,25"),
        (D("-1234.5"), "-1\u202f234,5"),
        (D("0.0000"), "0"),
        (D("1E+3"), "1\u202f000"),
        (D("0.0001"), "0,0001"),
    ],
)
def test_numbers_are_written_the_french_way(value, text):
    assert secret.format_decimal(value) == text


def test_a_change_is_signed():
    assert secret.format_decimal(D("1.5"), signed=True) == "+1,5"
    assert secret.format_decimal(D("-1.5"), signed=True) == "-1,5"
    assert secret.format_decimal(D("0"), signed=True) == "0"


@pytest.fixture
def compte():
    """An indicator that counts people."""
    diagnostic = DiagnosticFactory(public=True)
    return quantitatif(
        diagnostic,
        pilier=PilierFactory(diagnostic=diagnostic),
        libelle="Jeunes accompagnés",
        unite="jeunes",
        compte_des_personnes=True,
        sens_souhaite="hausse",
        reference=(2019, D(3)),
        cible=(2030, D(4)),
    )


def shown(compte, values, user):
    """What `user` is shown of one period's values {quartier code or None: value}."""
    quartiers = {q.code: q for q in compte.sous_theme.theme.pilier.diagnostic.quartiers.all()}
    mesures = [
        mesure(compte, 2024, value, quartiers[code] if code else None)
        for code, value in values.items()
    ]
    hidden = secret.Secret(compte, mesures, user)
    return [hidden.show(m, unit=False) for m in mesures]


@pytest.mark.parametrize(
    ("role", "value", "text"),
    [
        (Role.PARTENAIRE, D(4), "secret"),
        (Role.PARTENAIRE, D("4.9999"), "secret"),
        (Role.PARTENAIRE, D(0), "secret"),
        (Role.PARTENAIRE, D(5), "5"),
        (None, D(2), "secret"),
        (Role.EQUIPE_VILLE, D(2), "2"),
        (Role.ADMINISTRATEUR, D(0), "0"),
    ],
)
def test_a_small_count_of_people_is_hidden_from_partners_only(compte, role, value, text):
    user = UserFactory(role=role, contrat=compte.diagnostic.contrat) if role else AnonymousUser()
    assert shown(compte, {None: value}, user) == [text]


@pytest.mark.parametrize("role", [Role.EQUIPE_VILLE, Role.ADMINISTRATEUR])
def test_staff_see_the_small_counts_of_their_own_contract_only(compte, role):
    """The secret is decided per diagnostic: staff of contract A are shown "secret" for a
    small count of contract B's public diagnostic, like any visitor."""
    own = DiagnosticFactory()
    staff = UserFactory(role=role, contrat=own.contrat)
    assert own.contrat_id != compte.diagnostic.contrat_id

    assert shown(compte, {None: 2}, staff) == ["secret"]
    # The comparison of two editions: the value (2) and the reference of 2019 (3).
    small = {compte.mesures.get(annee=2024).pk, compte.mesures.get(annee=2019).pk}
    assert secret.hidden_for([compte.pk], staff) == small
    assert secret.sees_secrets(staff, own.pk)
    assert not secret.sees_secrets(staff, compte.diagnostic_id)
    b_staff = UserFactory(role=role, contrat=compte.diagnostic.contrat)
    assert secret.hidden_for([compte.pk], b_staff) == set()


def test_the_threshold_comes_from_the_settings_or_the_indicator(compte, settings):
    settings.SECRET_STATISTIQUE_SEUIL = 11
    partenaire = UserFactory(role=Role.PARTENAIRE, contrat=compte.diagnostic.contrat)

    assert shown(compte, {None: 10}, partenaire) == ["secret"]
    compte.mesures.all().delete()
    assert shown(compte, {None: 11}, partenaire) == ["11"]

    compte.seuil_secret = 20  # households of a fiscal source, say
    compte.mesures.all().delete()
    assert shown(compte, {None: 19}, partenaire) == ["secret"]


def test_values_that_are_not_counts_of_people_are_never_hidden(compte):
    compte.compte_des_personnes = False

    assert shown(compte, {None: 2}, AnonymousUser()) == ["2"]


def test_a_hidden_quartier_hides_the_total_it_could_be_subtracted_from(compte):
    # The demo's case: the quartiers add up to the territory (12 = 5 + 4 + 3).
    qpv(compte.sous_theme.theme.pilier.diagnostic)
    partenaire = UserFactory(role=Role.PARTENAIRE, contrat=compte.diagnostic.contrat)

    values = {None: 12, RIVE_GAUCHE: 5, FONTBOUILLANT: 4, BIEN_ASSIS: 3}
    assert shown(compte, values, partenaire) == ["secret", "5", "secret", "secret"]
    compte.mesures.all().delete()
    values = {None: 362, RIVE_GAUCHE: 139, FONTBOUILLANT: 3, BIEN_ASSIS: 220}
    assert shown(compte, values, partenaire) == ["secret", "139", "secret", "220"]
    compte.mesures.all().delete()
    values = {None: 362, RIVE_GAUCHE: 139, FONTBOUILLANT: 83, BIEN_ASSIS: 140}
    assert shown(compte, values, partenaire) == ["362", "139", "83", "140"]


def test_a_reference_that_repeats_a_hidden_total_is_hidden_with_it(client, compte):
    quartiers = qpv(compte.sous_theme.theme.pilier.diagnostic)
    serie(compte, {2019: 8})
    serie(compte, {2019: 5}, quartiers[RIVE_GAUCHE])
    serie(compte, {2019: 3}, quartiers[BIEN_ASSIS])
    # `compte` has the territory's reference of 2019 (3): set it to the 2019 total.
    compte.mesures.filter(nature=Mesure.Nature.REFERENCE).update(valeur=8)
    partenaire = UserFactory(role=Role.PARTENAIRE, contrat=compte.diagnostic.contrat)
    mesures = list(compte.mesures.all())

    hidden = secret.Secret(compte, mesures, partenaire)

    reference = compte.mesures.get(nature=Mesure.Nature.REFERENCE)
    assert hidden.show(reference) == "secret"  # 8 − 5 would give Bien-Assis's 3
    client.force_login(partenaire)
    diagnostic = compte.sous_theme.theme.pilier.diagnostic
    response = client.get(reverse("indicateurs:tableau_de_bord", args=[diagnostic.slug]))
    (row,) = response.context["lignes"]
    assert row.reference == "secret"


def test_a_small_territory_is_hidden_with_a_quartier(compte):
    qpv(compte.sous_theme.theme.pilier.diagnostic)
    partenaire = UserFactory(role=Role.PARTENAIRE, contrat=compte.diagnostic.contrat)

    assert shown(compte, {None: 4, RIVE_GAUCHE: 4}, partenaire) == ["secret", "secret"]


def test_without_a_total_nothing_more_is_hidden(compte):
    qpv(compte.sous_theme.theme.pilier.diagnostic)
    partenaire = UserFactory(role=Role.PARTENAIRE, contrat=compte.diagnostic.contrat)

    values = {RIVE_GAUCHE: 12, FONTBOUILLANT: 4, BIEN_ASSIS: 30}
    assert shown(compte, values, partenaire) == ["12", "secret", "30"]


# Exhaustive: no hidden value can be computed back -------------------------------------

SEUIL = 5
QUARTIER_VALUES = (0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 30)


class Cell:
    """A measure as `hidden_measures` reads it, without the database."""

    Nature = Mesure.Nature

    def __init__(self, pk, quartier_id, valeur):
        self.pk, self.quartier_id, self.territoire_id = pk, quartier_id, None
        self.nature, self.annee, self.type_periode, self.numero_periode = "valeur", 2024, "annee", 0
        self.valeur, self.numerateur, self.denominateur = Decimal(valeur), None, None


class Compte:
    compte_des_personnes, taux, seuil = True, False, SEUIL


def view(values):
    """What a partner is served of a total and three quartiers (None for "secret")."""
    cells = [Cell(index + 1, None if index == 0 else index, v) for index, v in enumerate(values)]
    hidden = secret.hidden_measures(Compte, cells)
    return tuple(None if cell.pk in hidden else values[index] for index, cell in enumerate(cells))


# Enough to find a second possible value, if there is one.
GUESSES = sorted(set(range(13)) | set(QUARTIER_VALUES))


def worlds(served):
    """Totals and three quartiers that add up and give the same view (the quartiers
    hidden guessed among GUESSES; with the total shown, the last one is what is left)."""
    hidden = [index for index, value in enumerate(served[1:], 1) if value is None]
    total = served[0]
    free = hidden[:-1] if total is not None else hidden
    for guess in itertools.product(GUESSES, repeat=len(free)):
        values = list(served)
        for index, value in zip(free, guess, strict=True):
            values[index] = value
        if total is not None and hidden:
            rest = total - sum(v for v in values[1:] if v is not None)
            if rest < 0:
                continue
            values[hidden[-1]] = rest
        values[0] = sum(values[1:])
        if total is not None and values[0] != total:
            continue
        if view(values) == served:
            yield values


def test_no_hidden_value_can_be_computed_back_from_a_total_and_three_quartiers():
    """For every total and three quartiers that add up with a value under the threshold,
    each hidden value has more than one possible value given what a partner is served
    and how the rule works."""
    checked = 0
    for quartiers in itertools.product(QUARTIER_VALUES, repeat=3):
        values = (sum(quartiers), *quartiers)
        if not any(v < SEUIL for v in values):
            continue
        served = view(values)
        assert served.count(None) != 1, values  # never a single hidden value
        possible = list(worlds(served))
        for index, value in enumerate(served):
            if value is None:
                assert len({world[index] for world in possible}) > 1, (values, served, index)
        checked += 1
    assert checked > 500


def masked(compte):
    """Three years of the territory and two quartiers that add up, small counts among
    them: 2021 Rive Gauche (1), 2022 and 2023 Bien-Assis (4, 3), each taking its year's
    total with it."""
    quartiers = qpv(compte.sous_theme.theme.pilier.diagnostic)
    serie(compte, {2021: 21, 2022: 18, 2023: 15})
    serie(compte, {2021: 1, 2022: 14, 2023: 12}, quartiers[RIVE_GAUCHE])
    serie(compte, {2021: 20, 2022: 4, 2023: 3}, quartiers[BIEN_ASSIS])
    return compte


def detail(client, compte):
    diagnostic = compte.sous_theme.theme.pilier.diagnostic
    response = client.get(reverse("indicateurs:detail", args=[diagnostic.slug, compte.pk]))
    assert response.status_code == 200
    return response.content.decode()


def svg_of(content):
    return re.search(r"<svg.*?</svg>", content, re.S).group()


def test_the_indicator_page_hides_small_counts_and_what_gives_them_away(client, compte):
    masked(compte)
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=compte.diagnostic.contrat))

    content = detail(client, compte)

    svg = svg_of(content)
    table = re.search(r'<table class="tableau tableau-valeurs".*?</table>', content, re.S).group()
    cells = re.findall(r'<td class="nombre">([^<]*)', table)
    # Periods in rows (2021, 2022, 2023), series in columns (territory, RG, BA).
    assert cells == ["secret", "secret", "20", "secret", "14", "secret", "secret", "12", "secret"]
    # The chart draws only the values shown, and says how many it leaves out.
    assert re.findall(r'data-valeur="([^"]*)"', svg) == ["14", "12", "20"]
    assert "6 valeurs couvertes par le secret statistique ne sont pas représentées" in content
    for hidden in (">1<", ">3<", ">4<", ">15<", ">18<", ">21<"):
        assert hidden not in table
    assert "Référence" not in svg  # 3, a small count
    assert "Cible 2030 : 4" in svg  # an objective, not a count
    reperes = re.search(r'<table class="tableau tableau-reperes".*?</table>', content, re.S)
    assert "Ensemble du territoire" in reperes.group()
    assert '<span class="valeur">secret</span>' in reperes.group()


def test_staff_see_every_number(client, compte):
    masked(compte)
    client.force_login(UserFactory(role=Role.EQUIPE_VILLE, contrat=compte.diagnostic.contrat))

    content = detail(client, compte)

    assert re.findall(r'data-valeur="([^"]*)"', svg_of(content)) == [
        "21", "18", "15", "1", "14", "12", "20", "4", "3"
    ]  # fmt: skip
    assert "ne sont pas représentées" not in content
    assert "Référence (2019) : 3\u00a0jeunes" in svg_of(content)


def export(client, diagnostic, **params):
    response = client.get(
        reverse("indicateurs:tableau_de_bord_export", args=[diagnostic.slug, "csv"]), params
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, line = list(csv.reader(StringIO(text), delimiter=";"))
    return dict(zip(header, line, strict=True))


def test_the_dashboard_and_its_exports_serve_nothing_derived_from_a_hidden_value(client, compte):
    masked(compte)
    diagnostic = compte.sous_theme.theme.pilier.diagnostic
    url = reverse("indicateurs:tableau_de_bord", args=[diagnostic.slug])
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=compte.diagnostic.contrat))

    response = client.get(url, {"quartier": BIEN_ASSIS})
    (row,) = response.context["lignes"]
    values = export(client, diagnostic, quartier=BIEN_ASSIS)

    assert (row.valeur, row.valeur_precedente, row.evolution) == ("secret", "secret", "")
    assert row.statut == Statut.SANS_DONNEE
    assert "secret statistique" in row.evaluation.motif
    assert values["Dernière valeur"] == "secret"
    assert values["Valeur précédente"] == "secret"
    assert values["Évolution"] == ""
    assert values["Statut"] == "Sans donnée"
    # The status filter tells nothing either: the row is "sans donnée" for a partner.
    assert not client.get(url, {"quartier": BIEN_ASSIS, "statut": "en_progres"}).context["lignes"]
    # The territory: its 2023 total is hidden (15 − 12 would give Bien-Assis's 3).
    (row,) = client.get(url).context["lignes"]
    assert (row.valeur, row.evolution, row.reference) == ("secret", "", "secret")
    # Rive Gauche: both values shown, so is its change.
    (row,) = client.get(url, {"quartier": RIVE_GAUCHE}).context["lignes"]
    assert (row.valeur, row.valeur_precedente, row.evolution) == (
        "12\u00a0jeunes",
        "14\u00a0jeunes",
        "-2",
    )


def test_staff_get_statuses_from_every_number(client, compte):
    masked(compte)
    diagnostic = compte.sous_theme.theme.pilier.diagnostic
    client.force_login(UserFactory(role=Role.EQUIPE_VILLE, contrat=compte.diagnostic.contrat))

    response = client.get(
        reverse("indicateurs:tableau_de_bord", args=[diagnostic.slug]), {"quartier": BIEN_ASSIS}
    )
    (row,) = response.context["lignes"]

    assert (row.valeur, row.evolution) == ("3\u00a0jeunes", "-1")
    assert row.statut == Statut.EN_RECUL  # wanted up, went down; no target of its own
    assert "Pas de cible pour ce quartier." in row.evaluation.motif


def test_the_pilier_page_hides_the_latest_values(client, compte):
    masked(compte)
    pilier = compte.sous_theme.theme.pilier
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=compte.diagnostic.contrat))

    content = client.get(pilier.get_absolute_url()).content.decode()

    assert "Ensemble du territoire, 2023 : <strong>secret</strong>" in content
    assert "Rive Gauche, 2023 : <strong>12\u00a0jeunes</strong>" in content
    assert "Bien-Assis, 2023 : <strong>secret</strong>" in content


@pytest.mark.parametrize("partner_of_b", [False, True], ids=["sans rôle", "partenaire"])
@pytest.mark.parametrize("role", [Role.EQUIPE_VILLE, Role.ADMINISTRATEUR])
def test_staff_of_another_contract_are_served_the_secret(client, compte, role, partner_of_b):
    """An Équipe ville (or Administrateur) of contract A is served "secret" for the small
    counts of contract B's public diagnostic on every page and export (also when a
    Partenaire of B), and every number of A's own diagnostic, in the same session."""
    masked(compte)  # contract B's diagnostic, public
    own = DiagnosticFactory()  # contract A
    mine = masked(
        quantitatif(
            own,
            pilier=PilierFactory(diagnostic=own),
            libelle="Jeunes accompagnés",
            unite="jeunes",
            compte_des_personnes=True,
            sens_souhaite="hausse",
        )
    )
    assert own.contrat_id != compte.diagnostic.contrat_id
    staff = UserFactory(role=role, contrat=own.contrat)
    if partner_of_b:
        MembreFactory(contrat=compte.diagnostic.contrat, compte=staff, role=Role.PARTENAIRE)
    client.force_login(staff)

    # Contract B's public diagnostic: small counts and what gives them away are hidden.
    content = detail(client, compte)
    assert re.findall(r'data-valeur="([^"]*)"', svg_of(content)) == ["14", "12", "20"]
    assert "6 valeurs couvertes par le secret statistique ne sont pas représentées" in content
    theirs = compte.sous_theme.theme.pilier.diagnostic
    url = reverse("indicateurs:tableau_de_bord", args=[theirs.slug])
    (row,) = client.get(url).context["lignes"]
    assert (row.valeur, row.evolution, row.reference) == ("secret", "", "secret")
    (row,) = client.get(url, {"quartier": BIEN_ASSIS}).context["lignes"]
    assert (row.valeur, row.valeur_precedente) == ("secret", "secret")
    assert export(client, theirs, quartier=BIEN_ASSIS)["Dernière valeur"] == "secret"
    pilier_page = client.get(compte.sous_theme.theme.pilier.get_absolute_url()).content.decode()
    assert "Bien-Assis, 2023 : <strong>secret</strong>" in pilier_page

    # Contract A's own diagnostic: every number.
    content = detail(client, mine)
    assert re.findall(r'data-valeur="([^"]*)"', svg_of(content)) == [
        "21", "18", "15", "1", "14", "12", "20", "4", "3"
    ]  # fmt: skip
    assert "ne sont pas représentées" not in content
    url = reverse("indicateurs:tableau_de_bord", args=[own.slug])
    (row,) = client.get(url, {"quartier": BIEN_ASSIS}).context["lignes"]
    assert (row.valeur, row.evolution) == ("3\u00a0jeunes", "-1")
    assert export(client, own, quartier=BIEN_ASSIS)["Dernière valeur"] == "3"
    pilier_page = client.get(mine.sous_theme.theme.pilier.get_absolute_url()).content.decode()
    assert "Bien-Assis, 2023 : <strong>3\u00a0jeunes</strong>" in pilier_page
