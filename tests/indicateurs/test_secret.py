"""Secret statistique: partners never see a small count of people, on any page, export or
chart; staff see the numbers. And numbers are written the French way."""

import csv
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from comptes.roles import Role
from indicateurs import secret
from tests.factories import DiagnosticFactory, PilierFactory, UserFactory
from tests.indicateurs_data import RIVE_GAUCHE, qpv, quantitatif, serie

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
        valeur_reference=D(3),
        annee_reference=2019,
        valeur_cible=D(4),
        annee_cible=2030,
    )


@pytest.mark.parametrize(
    ("role", "value", "shown"),
    [
        (Role.PARTENAIRE, D(4), "< 5"),
        (Role.PARTENAIRE, D("4.9999"), "< 5"),
        (Role.PARTENAIRE, D(0), "< 5"),
        (Role.PARTENAIRE, D(5), "5\u00a0jeunes"),
        (None, D(2), "< 5"),
        (Role.EQUIPE_VILLE, D(2), "2\u00a0jeunes"),
        (Role.ADMINISTRATEUR, D(0), "0\u00a0jeunes"),
    ],
)
def test_a_small_count_of_people_is_masked_to_partners_only(compte, role, value, shown):
    user = UserFactory(role=role) if role else AnonymousUser()
    assert secret.display_value(value, compte, user) == shown


def test_the_threshold_comes_from_the_settings(compte, settings):
    settings.SECRET_STATISTIQUE_SEUIL = 11
    partenaire = UserFactory(role=Role.PARTENAIRE)

    assert secret.display_value(D(10), compte, partenaire) == "< 11"
    assert secret.display_value(D(11), compte, partenaire) == "11\u00a0jeunes"


def test_values_that_are_not_counts_of_people_are_never_masked(compte):
    compte.compte_des_personnes = False

    assert secret.display_value(D(2), compte, AnonymousUser()) == "2\u00a0jeunes"


def masked(compte):
    """Values for the territory and Rive Gauche, some under the threshold."""
    quartiers = qpv(compte.sous_theme.theme.pilier.diagnostic)
    serie(compte, {2021: 3, 2022: 8, 2023: 2})
    serie(compte, {2021: 1, 2022: 4, 2023: 7}, quartiers[RIVE_GAUCHE])
    return compte


def detail(client, compte):
    diagnostic = compte.sous_theme.theme.pilier.diagnostic
    response = client.get(reverse("indicateurs:detail", args=[diagnostic.slug, compte.pk]))
    assert response.status_code == 200
    return response.content.decode()


def svg_of(content):
    return re.search(r"<svg.*?</svg>", content, re.S).group()


def test_the_indicator_page_hides_small_counts_from_partners(client, compte):
    masked(compte)
    client.force_login(UserFactory(role=Role.PARTENAIRE))

    content = detail(client, compte)

    svg = svg_of(content)
    table = re.search(r'<table class="tableau tableau-valeurs".*?</table>', content, re.S).group()
    cells = re.findall(r'<td class="nombre">([^<]*)', table)
    assert cells == ["&lt; 5", "&lt; 5", "8", "&lt; 5", "&lt; 5", "7"]
    # The chart draws only the values shown, and says how many it leaves out.
    assert re.findall(r'data-valeur="([^"]*)"', svg) == ["8", "7"]
    assert "4 valeurs inférieures à 5 ne sont pas représentées (secret statistique)" in content
    # Nothing gives the masked numbers away: no tick of the scale below the values drawn,
    # no reference line (3, a masked count), no number of the table.
    for hidden in (">1<", ">2<", ">3<", ">4<"):
        assert hidden not in table
    assert "Référence" not in svg
    assert "Cible 2030 : 4" in svg  # an objective, not a count
    assert "Valeur de référence</dt><dd>&lt; 5 (2019)" in content


def test_staff_see_every_number(client, compte):
    masked(compte)
    client.force_login(UserFactory(role=Role.EQUIPE_VILLE))

    content = detail(client, compte)

    assert re.findall(r'data-valeur="([^"]*)"', svg_of(content)) == ["3", "8", "2", "1", "4", "7"]
    assert "ne sont pas représentées" not in content
    assert "Référence (2019) : 3\u00a0jeunes" in svg_of(content)


def test_the_dashboard_and_its_exports_mask_too(client, compte):
    masked(compte)
    diagnostic = compte.sous_theme.theme.pilier.diagnostic
    client.force_login(UserFactory(role=Role.PARTENAIRE))

    response = client.get(
        reverse("indicateurs:tableau_de_bord", args=[diagnostic.slug]), {"quartier": RIVE_GAUCHE}
    )
    (row,) = response.context["lignes"]
    csv_response = client.get(
        reverse("indicateurs:tableau_de_bord_export", args=[diagnostic.slug, "csv"]),
        {"quartier": RIVE_GAUCHE},
    )
    text = b"".join(csv_response.streaming_content).decode("utf-8-sig")
    header, line = list(csv.reader(StringIO(text), delimiter=";"))
    values = dict(zip(header, line, strict=True))

    assert (row.valeur, row.valeur_precedente) == ("7\u00a0jeunes", "< 5")
    assert row.evolution == ""  # 7 − 4 would give the masked 4 away
    assert "non calculée" in response.content.decode()
    assert values["Dernière valeur"] == "7"
    assert values["Valeur précédente"] == "< 5"
    assert values["Évolution"] == ""
    assert values["Valeur de référence"] == "< 5"


def test_the_pilier_page_masks_the_latest_values(client, compte):
    masked(compte)
    pilier = compte.sous_theme.theme.pilier
    client.force_login(UserFactory(role=Role.PARTENAIRE))

    content = client.get(pilier.get_absolute_url()).content.decode()

    assert "Ensemble du territoire, 2023 : <strong>&lt; 5</strong>" in content
    assert "Rive Gauche, 2023 : <strong>7\u00a0jeunes</strong>" in content
