"""The page of an indicator, its links with the pages of the diagnostic, and the latest
values shown on the pages of a pilier and of a sous-thème."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comptes.roles import Role
from indicateurs.models import Indicateur, Mesure
from tests.factories import DiagnosticFactory, IndicateurFactory, MembreFactory, UserFactory
from tests.indicateurs_data import RIVE_GAUCHE, mesure, qpv, quantitatif, serie
from tests.scale import build_diagnostic

D = Decimal


def page(client, indicateur, status=200):
    diagnostic = indicateur.theme_effectif.pilier.diagnostic
    response = client.get(reverse("indicateurs:detail", args=[diagnostic.slug, indicateur.pk]))
    assert response.status_code == status
    return response.content.decode()


@pytest.fixture
def chomage(montlucon):
    quartiers = qpv(montlucon)
    indicateur = quantitatif(
        montlucon,
        libelle="Taux de chômage des 15-64 ans",
        definition="Part des chômeurs dans la population active.",
        source_donnees="Insee",
        periodicite=Indicateur.Periodicite.ANNUELLE,
        reference=(2019, D("22.5")),
        cible=(2030, D(18)),
    )
    serie(indicateur, {2022: "21.4", 2023: "20.1"}, source="Insee, RP")
    serie(indicateur, {2022: 26, 2023: "27.5"}, quartiers[RIVE_GAUCHE], commentaire="Estimation")
    return indicateur


def test_the_page_of_an_indicator_shows_its_information_chart_and_table(client, chomage):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=chomage.diagnostic.contrat))

    content = page(client, chomage)

    assert "<h1>Taux de chômage des 15-64 ans</h1>" in content
    assert "Part des chômeurs dans la population active." in content
    reperes = re.search(r'<table class="tableau tableau-reperes".*?</table>', content, re.S).group()
    territoire = re.search(r"Ensemble du territoire</th>(.*?)</tr>", reperes, re.S).group(1)
    assert '<span class="valeur">22,5\u00a0%</span><span class="periode">2019</span>' in territoire
    assert '<span class="valeur">18\u00a0%</span><span class="periode">2030</span>' in territoire
    rive_gauche = re.search(r"Rive Gauche</th>(.*?)</tr>", reperes, re.S).group(1)
    assert "pas de référence" in rive_gauche and "pas de cible" in rive_gauche
    assert "<dt>Évolution souhaitée</dt><dd>À la baisse</dd>" in content
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="graphique" role="img"' in content
    assert '<caption id="valeurs-titre-tableau">Valeurs par période (en %)</caption>' in content
    assert '<th scope="col" class="nombre">Rive Gauche</th>' in content
    assert "Estimation" in content and "Insee, RP" in content
    # No action of the Équipe ville for a partner.
    assert "Saisir des valeurs" not in content
    assert "Modifier<" not in content


def test_staff_find_their_actions_on_the_page(client, chomage):
    client.force_login(UserFactory(role=Role.EQUIPE_VILLE, contrat=chomage.diagnostic.contrat))

    content = page(client, chomage)

    slug = chomage.theme_effectif.pilier.diagnostic.slug
    for name in ("saisie", "modifier", "historique"):
        assert reverse(f"indicateurs:{name}", args=[slug, chomage.pk]) in content
    mesure_ = chomage.mesures.filter(nature=Mesure.Nature.VALEUR).first()
    assert reverse("indicateurs:reperes", args=[slug, chomage.pk]) in content
    assert reverse("indicateurs:mesure_modifier", args=[slug, mesure_.pk]) in content
    assert reverse("indicateurs:mesure_supprimer", args=[slug, mesure_.pk]) in content


def test_links_go_both_ways_between_an_indicator_and_its_sous_theme(client, chomage):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=chomage.diagnostic.contrat))
    sous_theme = chomage.sous_theme
    pilier = sous_theme.theme.pilier
    detail = reverse("indicateurs:detail", args=[pilier.diagnostic.slug, chomage.pk])

    content = page(client, chomage)
    sous_theme_page = client.get(sous_theme.get_absolute_url()).content.decode()
    pilier_page = client.get(pilier.get_absolute_url()).content.decode()

    assert f'href="{sous_theme.get_absolute_url()}"' in content
    assert f'href="{pilier.get_absolute_url()}"' in content
    assert f'<a href="{detail}">Taux de chômage des 15-64 ans</a>' in sous_theme_page
    assert f'<a href="{detail}">Taux de chômage des 15-64 ans</a>' in pilier_page


def test_a_theme_level_indicator_links_to_its_theme(client, montlucon):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=montlucon.contrat))
    theme = montlucon.piliers.get(numero=1).themes.first()
    indicateur = IndicateurFactory(au_niveau_du_theme=True, theme=theme)

    content = page(client, indicateur)

    assert f"#theme-{theme.pk}" in content
    assert "(au niveau du thème)" in content


def test_the_pages_of_a_pilier_and_of_a_sous_theme_show_the_latest_values(client, chomage):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=chomage.diagnostic.contrat))

    for url in (
        chomage.sous_theme.get_absolute_url(),
        chomage.theme_effectif.pilier.get_absolute_url(),
    ):
        content = client.get(url).content.decode()
        assert "Ensemble du territoire, 2023 : <strong>20,1\u00a0%</strong>" in content
        assert "Rive Gauche, 2023 : <strong>27,5\u00a0%</strong>" in content  # fmt: skip


def test_a_qualitative_indicator_shows_its_constats_as_a_timeline(client, montlucon):
    quartiers = qpv(montlucon)
    indicateur = quantitatif(
        montlucon, type=Indicateur.Type.QUALITATIF, libelle="Sentiment d'isolement", unite=""
    )
    mesure(indicateur, 2021, texte="Isolement des personnes âgées.")
    mesure(
        indicateur,
        2023,
        texte="Le café associatif <crée> du lien.",
        quartier=quartiers[RIVE_GAUCHE],
    )
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=montlucon.contrat))

    content = page(client, indicateur)

    assert "<svg" not in content
    assert '<ol class="chronologie">' in content
    assert content.index("2023 — Rive Gauche") < content.index("2021 — Ensemble du territoire")
    assert "Le café associatif &lt;crée&gt; du lien." in content


def test_an_indicator_of_another_diagnostic_is_not_found(client, chomage):
    other = DiagnosticFactory()
    # A partner of both contracts: the other diagnostic is readable, the indicator is not
    # one of its own.
    partner = UserFactory(role=Role.PARTENAIRE, contrat=chomage.diagnostic.contrat)
    MembreFactory(contrat=other.contrat, compte=partner, role=Role.PARTENAIRE)
    client.force_login(partner)
    assert client.get(other.get_absolute_url()).status_code == 200

    response = client.get(reverse("indicateurs:detail", args=[other.slug, chomage.pk]))

    assert response.status_code == 404


def test_an_indicator_of_a_draft_is_hidden_from_partners(client):
    diagnostic = DiagnosticFactory(brouillon=True)
    indicateur = IndicateurFactory(sous_theme__theme__pilier__diagnostic=diagnostic)
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=diagnostic.contrat))

    page(client, indicateur, status=404)


def test_the_diagnostic_page_links_to_its_dashboard(client, montlucon):
    client.force_login(UserFactory(role=Role.PARTENAIRE, contrat=montlucon.contrat))

    content = client.get(montlucon.get_absolute_url()).content.decode()

    assert reverse("indicateurs:tableau_de_bord", args=[montlucon.slug]) in content


# Query counts ------------------------------------------------------------------------------


def with_values(built, years):
    """Values for the territory and three quartiers of every indicator of a built diagnostic,
    over `years` years."""
    quartiers = list(built.diagnostic.quartiers.all()[:3])
    indicateurs = Indicateur.objects.du_diagnostic(built.diagnostic)
    indicateurs.update(type=Indicateur.Type.QUANTITATIF, compte_des_personnes=True)
    Mesure.objects.bulk_create(
        Mesure(indicateur=indicateur, annee=2000 + year, quartier=quartier, valeur=D(year))
        for indicateur in indicateurs
        for quartier in [None, *quartiers]
        for year in range(years)
    )
    return built


def count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_pages_with_values_run_as_many_queries_at_seed_size_as_ten_times_larger(client):
    """The page of an indicator: session, user, roles (3), the indicator with its place
    and diagnostic (1), its measures (1), the diagnostic's quartiers (1). The pilier and
    the sous-thème: as in test_query_counts, with the latest values (1) and, for a partner,
    the groups of their periods that the secret statistique reads (1)."""
    small, large = with_values(build_diagnostic(1), 3), with_values(build_diagnostic(10), 30)
    partner = UserFactory(role=Role.PARTENAIRE, contrat=small.diagnostic.contrat)
    MembreFactory(contrat=large.diagnostic.contrat, compte=partner, role=Role.PARTENAIRE)
    client.force_login(partner)

    def urls(built):
        indicateur = built.sous_theme.indicateurs.first()
        slug = built.diagnostic.slug
        return {
            "indicateur": reverse("indicateurs:detail", args=[slug, indicateur.pk]),
            "pilier": built.pilier.get_absolute_url(),
            "sous_theme": built.sous_theme.get_absolute_url(),
        }

    expected = {"indicateur": 6, "pilier": 11, "sous_theme": 9}
    assert {name: count(client, url) for name, url in urls(small).items()} == expected
    assert {name: count(client, url) for name, url in urls(large).items()} == expected
