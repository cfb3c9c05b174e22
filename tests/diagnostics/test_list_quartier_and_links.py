"""The lists of items as a user sees them: the quartier filter keeps, by default, the items
that concern the whole territory (tagged with no quartier); the exports follow it; bad
parameters are French form errors, never a server error; each indicator leads to its page
and the list of indicators to the tableau de bord."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.diagnostics.test_filters import LISTE, LISTE_INDICATEURS
from tests.factories import DiagnosticFactory, IndicateurFactory, ThemeFactory

EXPORT_CSV = reverse("diagnostics:difficultes_export", args=["csv"])
EXPORT_INDICATEURS_CSV = reverse("indicateurs:export", args=["csv"])

FONTBOUILLANT_SEULEMENT = {
    "Désengagement des jeunes sur la citoyenneté",
    "SANTÉ MENTALE : un frein à l'emploi",
}
TERRITOIRE = {"Renoncement aux soins"}  # the only published difficulté with no quartier


@pytest.fixture
def contrat(monde):
    """The personas hold their roles on the contract of both diagnostics of `monde`."""
    return monde.diagnostic.contrat


def shown(response):
    return {element.libelle for element in response.context["elements"]}


def csv_libelles(response):
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *rows = csv.reader(io.StringIO(text), delimiter=";")
    return {row[header.index("Libellé")] for row in rows}


# The quartier filter --------------------------------------------------------------------


def test_a_quartier_keeps_the_items_of_the_whole_territory_by_default(client, monde, partenaire):
    client.force_login(partenaire)

    response = client.get(LISTE, {"quartier": "QN00305M"})

    assert shown(response) == FONTBOUILLANT_SEULEMENT | TERRITOIRE
    page = response.content.decode()
    assert "3 difficultés" in page
    assert "Un élément rattaché à aucun quartier concerne l'ensemble du territoire." in page
    assert '<label for="id_perimetre">Périmètre' in page
    assert "Ce quartier et l&#x27;ensemble du territoire</option>" in page
    assert "Ce quartier seulement</option>" in page


def test_the_whole_territory_can_be_left_out(client, monde, partenaire):
    client.force_login(partenaire)

    response = client.get(LISTE, {"quartier": "QN00305M", "perimetre": "quartier-seulement"})

    assert shown(response) == FONTBOUILLANT_SEULEMENT
    page = response.content.decode()
    assert "2 difficultés" in page
    assert '<option value="quartier-seulement" selected>Ce quartier seulement</option>' in page
    # The link to share, the pagination and the downloads keep the choice.
    assert f'href="{EXPORT_CSV}?quartier=QN00305M&amp;perimetre=quartier-seulement"' in page


def test_the_explicit_default_is_the_same_list(client, monde, partenaire):
    client.force_login(partenaire)

    response = client.get(LISTE, {"quartier": "QN00305M", "perimetre": "quartier-et-territoire"})

    assert shown(response) == FONTBOUILLANT_SEULEMENT | TERRITOIRE
    assert (
        '<option value="quartier-et-territoire" selected>Ce quartier et l&#x27;ensemble du '
        "territoire</option>" in response.content.decode()
    )


def test_without_a_quartier_the_perimetre_changes_nothing(client, monde, partenaire):
    client.force_login(partenaire)

    everything = shown(client.get(LISTE))
    assert shown(client.get(LISTE, {"perimetre": "quartier-seulement"})) == everything
    assert len(everything) == 4


def test_the_indicators_follow_the_same_rule(client, monde, partenaire):
    monde.nb_medecins.quartiers.set([monde.rive_gauche])
    monde.sans_permis.quartiers.set([monde.fontbouillant])
    client.force_login(partenaire)

    autour = client.get(LISTE_INDICATEURS, {"quartier": "QN00304M"})
    seulement = client.get(
        LISTE_INDICATEURS, {"quartier": "QN00304M", "perimetre": "quartier-seulement"}
    )

    assert shown(autour) == {"Nombre de médecins", "Nombre de jeunes engagés"}
    assert shown(seulement) == {"Nombre de médecins"}


@pytest.mark.parametrize(
    "perimetre, expected",
    [
        (None, FONTBOUILLANT_SEULEMENT | TERRITOIRE),
        ("quartier-et-territoire", FONTBOUILLANT_SEULEMENT | TERRITOIRE),
        ("quartier-seulement", FONTBOUILLANT_SEULEMENT),
    ],
)
def test_the_exports_follow_the_perimetre(client, monde, partenaire, perimetre, expected):
    client.force_login(partenaire)
    params = {"quartier": "QN00305M"}
    if perimetre:
        params["perimetre"] = perimetre

    assert csv_libelles(client.get(EXPORT_CSV, params)) == expected
    xlsx = client.get(reverse("diagnostics:difficultes_export", args=["xlsx"]), params)
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )


def test_the_export_of_the_indicators_follows_the_perimetre(client, monde, partenaire):
    monde.nb_medecins.quartiers.set([monde.rive_gauche])
    client.force_login(partenaire)

    assert csv_libelles(
        client.get(
            EXPORT_INDICATEURS_CSV, {"quartier": "QN00304M", "perimetre": "quartier-seulement"}
        )
    ) == {"Nombre de médecins"}
    assert csv_libelles(client.get(EXPORT_INDICATEURS_CSV, {"quartier": "QN00304M"})) == {
        "Nombre de médecins",
        "Nombre de jeunes engagés",
        "Part des adultes sans permis",
    }


@pytest.mark.parametrize("valeur", ["tout", "QUARTIER-SEULEMENT", "", "quartier-seulement\x00"])
def test_a_bad_perimetre_is_a_french_error(client, monde, partenaire, valeur):
    client.force_login(partenaire)

    response = client.get(LISTE, {"quartier": "QN00305M", "perimetre": valeur})

    if valeur == "":  # an empty field is the default, as when it is absent
        assert shown(response) == FONTBOUILLANT_SEULEMENT | TERRITOIRE
        return
    assert response.status_code == 200
    assert list(response.context["elements"]) == []
    page = response.content.decode()
    assert "Un filtre n’est pas valide" in page
    assert "Sélectionnez un choix valide" in page
    # The export sends back to the list, which tells what to correct.
    export = client.get(EXPORT_CSV, {"quartier": "QN00305M", "perimetre": valeur})
    assert export.status_code == 302
    assert export.url.startswith(LISTE)


PARAMETRES = (
    "diagnostic",
    "pilier",
    "theme",
    "sous_theme",
    "quartier",
    "perimetre",
    "q",
    "avec_indicateur",
    "avec_difficulte",
    "page",
)


@pytest.mark.parametrize("name", PARAMETRES)
@pytest.mark.parametrize("liste", [LISTE, LISTE_INDICATEURS])
def test_a_nul_byte_in_a_parameter_is_never_a_server_error(client, monde, marie, name, liste):
    # Two diagnostics: the pilier, thème, sous-thème and quartier menus then look a value
    # up in the database; PostgreSQL refuses a NUL in a string, so it must never get there.
    ThemeFactory(pilier__diagnostic=DiagnosticFactory(slug="autre-2024"))
    client.force_login(marie)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{liste}?{name}=QN00305M%00x")

    assert response.status_code == 200
    assert not any("\x00" in str(query["sql"]) for query in queries.captured_queries)
    ignored = {"page", "avec_indicateur" if liste == LISTE_INDICATEURS else "avec_difficulte"}
    if name not in ignored:
        assert response.context["filter"].errors
        assert "Filtres à corriger" in response.content.decode()


def test_a_nul_byte_in_the_export_is_sent_back_to_the_list(client, monde, partenaire):
    client.force_login(partenaire)
    response = client.get(f"{EXPORT_CSV}?quartier=QN%00&perimetre=quartier-seulement%00")
    assert response.status_code == 302


# Links of the list of indicators --------------------------------------------------------


def test_each_indicator_leads_to_its_page_and_the_list_to_the_tableau_de_bord(
    client, monde, partenaire
):
    client.force_login(partenaire)

    page = client.get(LISTE_INDICATEURS).content.decode()

    for indicateur in (monde.nb_medecins, monde.nb_engages, monde.sans_permis):
        url = reverse("indicateurs:detail", args=["montlucon-2024", indicateur.pk])
        assert f'<a href="{url}">{indicateur.libelle}</a>' in page
    tableau = reverse("indicateurs:tableau_de_bord", args=["montlucon-2024"])
    assert f'<a href="{tableau}">Tableau de bord des indicateurs</a>' in page
    assert "confidentiel" not in page


def test_with_several_diagnostics_each_one_shown_has_its_tableau_de_bord(client, monde, marie):
    client.force_login(marie)  # sees the draft too: two diagnostics, none chosen

    page = client.get(LISTE_INDICATEURS).content.decode()

    for slug, titre in (
        ("montlucon-2024", "Contrat de ville de Montluçon — diagnostic 2024"),
        ("revision-2027", "Révision 2027"),
    ):
        url = reverse("indicateurs:tableau_de_bord", args=[slug])
        assert f'<a href="{url}">Tableau de bord des indicateurs — {titre}</a>' in page
    secret = reverse("indicateurs:detail", args=["revision-2027", monde.indicateur_secret.pk])
    assert f'<a href="{secret}">' in page


def test_the_difficultes_have_no_page_of_their_own(client, monde, partenaire):
    client.force_login(partenaire)

    page = client.get(LISTE).content.decode()

    assert '<p class="element-libelle">Renoncement aux soins</p>' in page


def test_the_links_cost_no_query_per_indicator(
    client, monde, partenaire, django_assert_num_queries
):
    client.force_login(partenaire)
    client.get(LISTE_INDICATEURS)  # the session is read once
    with CaptureQueriesContext(connection) as few:
        client.get(LISTE_INDICATEURS)
    IndicateurFactory.create_batch(20, sous_theme=monde.soins)

    with django_assert_num_queries(len(few)):
        response = client.get(LISTE_INDICATEURS)

    assert len(response.context["elements"]) == 23
