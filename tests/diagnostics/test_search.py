"""French search: accents, case and plurals ignored, grouped by pilier, never into a draft.

The hits on Montluçon's seed are pinned: PostgreSQL (full-text search) and SQLite (the
same rule in Python) must both give exactly these.
"""

import factory
import pytest
from django.db import connection
from django.urls import reverse

from comptes.roles import Role
from diagnostics import search
from diagnostics.models import Difficulte
from tests.factories import (
    DiagnosticFactory,
    DifficulteFactory,
    IndicateurFactory,
    PilierFactory,
    SousThemeFactory,
    ThemeFactory,
    UserFactory,
)

RECHERCHE = reverse("diagnostics:recherche")

SANTE = {
    ("Thème", "Santé"),
    ("Sous-thème", "Éducation à la santé et prévention"),
    ("Difficulté", "Besoins de mettre en place des actions de sensibilisation en prévention santé"),
    ("Difficulté", "Pas d'action de prévention santé mené au sein des QPV"),
    # A lead-in ("…, notamment") and its examples (the IREPS, Alcool Ecoute Joie et Santé…):
    # one item.
    ("Difficulté", "Violences intrafamiliales Des actions sont mises en place"),
}
DECROCHAGE = {
    (
        "Sous-thème",
        "Lutte contre le décrochage, accès à des études supérieures et formation de qualité",
    ),
    ("Difficulté", "Un grand nombre de jeunes entre 16 et 25 ans sont en situation de décrochage"),
}
JEUNES = {
    ("Thème", "Jeunesse"),
    ("Difficulté", "Besoins de mettre en place des actions de sensibilisation en prévention santé"),
    ("Difficulté", "Désengagement des jeunes sur les questions de citoyenneté."),
    ("Difficulté", "Présence de jeunes adultes (qui travaillent) mais qui souhaitent se divertir"),
    ("Difficulté", "Un grand nombre de jeunes entre 16 et 25 ans sont en situation de décrochage"),
    ("Difficulté", "peu de jeunes licenciés dans les clubs sportifs"),
    ("Indicateur", "20/30 jeunes QPV repérés"),
    ("Indicateur", "Nombre de jeunes intégrant le programme Booster (alternance Service Civique"),
}


BEGINNINGS = {beginning for _, beginning in SANTE | DECROCHAGE | JEUNES}


def hits(user, query, **kwargs):
    """(kind, libellé) of every hit, long libellés cut to their beginning pinned above."""
    found = set()
    for row in search.search(user, query, **kwargs):
        libelle = row["hit_libelle"]
        beginning = next((b for b in BEGINNINGS if libelle.startswith(b)), libelle)
        found.add((row["hit_kind"], beginning))
    return found


@pytest.mark.parametrize(
    "query, expected",
    [
        ("sante", SANTE),
        ("SANTÉ", SANTE),
        ("Santé", SANTE),
        ("decrochage", DECROCHAGE),
        ("DÉCROCHAGE", DECROCHAGE),
        ("jeunes", JEUNES),
        ("jeune", JEUNES),
    ],
)
def test_the_seed_gives_the_same_hits_on_every_database(montlucon, partenaire, query, expected):
    assert hits(partenaire, query) == expected


def test_every_word_of_a_query_must_match(montlucon, partenaire):
    assert hits(partenaire, "jeunes décrochage") == {
        (
            "Difficulté",
            "Un grand nombre de jeunes entre 16 et 25 ans sont en situation de décrochage",
        )
    }


def test_a_word_finds_the_words_it_begins(montlucon, partenaire):
    assert ("Thème", "Éducation") in hits(partenaire, "éduc")
    assert ("Sous-thème", "Programme de Réussite Éducative") in hits(partenaire, "educ")


def test_the_page_groups_the_hits_by_pilier(client, montlucon, partenaire):
    client.force_login(partenaire)
    response = client.get(RECHERCHE, {"q": "sante"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "5 résultats pour « sante »" in page
    pilier_url = reverse("diagnostics:pilier", args=["montlucon", 1])
    assert f'<h3 id="groupe-1"><a href="{pilier_url}">Pilier 1 : COHESION SOCIALE</a></h3>' in page
    [groupe] = response.context["groupes"]
    assert groupe.numero == 1
    kinds = [hit.kind for hit in groupe.hits]
    assert sorted(kinds) == ["Difficulté"] * 3 + ["Sous-thème", "Thème"]
    sante = next(hit for hit in groupe.hits if hit.kind == "Thème")
    assert sante.url.startswith(f"{pilier_url}#theme-")
    sous_theme = next(hit for hit in groupe.hits if hit.kind == "Sous-thème")
    assert sous_theme.path == ["Santé"]
    assert sous_theme.url.startswith("/diagnostics/montlucon/sous-themes/")
    assert '<span class="badge badge-type">Sous-thème</span>' in page


def test_hits_of_several_piliers_come_in_the_order_of_the_piliers(client):
    diagnostic = DiagnosticFactory(slug="montlucon-2024")
    partenaire = UserFactory(role=Role.PARTENAIRE, contrat=diagnostic.contrat)
    for numero in (2, 1):
        theme = ThemeFactory(
            pilier=PilierFactory(diagnostic=diagnostic, numero=numero), libelle=f"Mobilité {numero}"
        )
        IndicateurFactory(
            au_niveau_du_theme=True, theme=theme, libelle="Habitants sans solution de mobilité"
        )
    client.force_login(partenaire)
    response = client.get(RECHERCHE, {"q": "mobilite"})
    groupes = response.context["groupes"]
    assert [groupe.numero for groupe in groupes] == [1, 2]
    for groupe in groupes:
        # The shorter libellé, more about the subject, comes first.
        assert [hit.kind for hit in groupe.hits] == ["Thème", "Indicateur"]
        assert groupe.hits[1].path == [f"Mobilité {groupe.numero}"]


@pytest.fixture
def brouillon(montlucon):
    """A draft edition of Montluçon's contract, on which the personas hold their roles."""
    diagnostic = DiagnosticFactory(
        brouillon=True,
        contrat=montlucon.contrat,
        nom_edition="Révision 2027",
        slug="revision-2027",
    )
    sous_theme = SousThemeFactory(
        theme__pilier__diagnostic=diagnostic, libelle="Sous-thème confidentiel"
    )
    DifficulteFactory(sous_theme=sous_theme, libelle="Constat confidentiel du brouillon")
    return diagnostic


def test_a_partner_never_finds_a_draft(client, montlucon, brouillon, partenaire):
    assert hits(partenaire, "confidentiel") == set()
    client.force_login(partenaire)
    response = client.get(RECHERCHE, {"q": "confidentiel", "diagnostic": "revision-2027"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Sélectionnez un choix valide" in page
    assert "Constat confidentiel" not in page


def test_the_city_team_finds_in_drafts(client, montlucon, brouillon):
    equipe = UserFactory(role=Role.EQUIPE_VILLE, contrat=montlucon.contrat)
    assert hits(equipe, "confidentiel") == {
        ("Sous-thème", "Sous-thème confidentiel"),
        ("Difficulté", "Constat confidentiel du brouillon"),
    }


def test_the_search_can_be_limited_to_one_diagnostic(client, montlucon, brouillon):
    equipe = UserFactory(role=Role.EQUIPE_VILLE, contrat=montlucon.contrat)
    client.force_login(equipe)
    response = client.get(RECHERCHE, {"q": "confidentiel sante", "diagnostic": "montlucon"})
    assert response.context["page_obj"].paginator.count == 0
    assert "Aucun résultat pour « confidentiel sante »" in response.content.decode()
    response = client.get(RECHERCHE, {"q": "sante", "diagnostic": "montlucon"})
    assert response.context["page_obj"].paginator.count == len(SANTE)


def test_an_empty_search_invites_to_type_words(client, montlucon, partenaire):
    client.force_login(partenaire)
    for params in ({}, {"q": ""}, {"q": "   "}):
        response = client.get(RECHERCHE, params)
        assert response.status_code == 200
        assert "Saisissez un ou plusieurs mots" in response.content.decode()


def test_a_search_of_common_words_only_says_so(client, montlucon, partenaire):
    client.force_login(partenaire)
    response = client.get(RECHERCHE, {"q": "de la pour"})
    assert "Ces mots sont trop courants pour être recherchés" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    ["sante' & | ! :* (", "'; DROP TABLE diagnostics_difficulte; --", "<script>", "x" * 201],
)
def test_odd_searches_get_an_answer_never_an_error(client, montlucon, partenaire, query):
    client.force_login(partenaire)
    response = client.get(RECHERCHE, {"q": query})
    assert response.status_code == 200
    assert "<script>" not in response.content.decode().split("<main", 1)[1]
    assert Difficulte.objects.exists()


def test_many_hits_are_paginated_keeping_the_query(client):
    theme = ThemeFactory(pilier__diagnostic=DiagnosticFactory(slug="grand"), libelle="Habitat")
    partenaire = UserFactory(role=Role.PARTENAIRE, contrat=theme.diagnostic.contrat)
    DifficulteFactory.create_batch(
        40,
        au_niveau_du_theme=True,
        theme=theme,
        libelle=factory.Sequence(lambda n: f"Logement vacant numéro {n}"),
    )
    client.force_login(partenaire)
    response = client.get(RECHERCHE, {"q": "logements"})
    assert response.context["page_obj"].paginator.count == 40
    assert sum(len(groupe.hits) for groupe in response.context["groupes"]) == 30
    assert 'href="?q=logements&amp;page=2" rel="next"' in response.content.decode()
    second = client.get(RECHERCHE, {"q": "logements", "page": 2})
    assert sum(len(groupe.hits) for groupe in second.context["groupes"]) == 10


@pytest.mark.parametrize(
    "page_demandee, page_affichee",
    [("abc", 1), ("2.0", 2), ("0", 2), ("-3", 2), ("999", 2), ("1e30", 2), ("nan", 1)],
)
def test_a_wrong_page_number_shows_a_page_of_hits(client, page_demandee, page_affichee):
    theme = ThemeFactory(pilier__diagnostic=DiagnosticFactory(slug="grand"), libelle="Habitat")
    partenaire = UserFactory(role=Role.PARTENAIRE, contrat=theme.diagnostic.contrat)
    DifficulteFactory.create_batch(
        40,
        au_niveau_du_theme=True,
        theme=theme,
        libelle=factory.Sequence(lambda n: f"Logement vacant numéro {n}"),
    )
    client.force_login(partenaire)
    response = client.get(RECHERCHE, {"q": "logements", "page": page_demandee})
    assert response.status_code == 200
    page = response.context["page_obj"]
    assert (page.number, page.paginator.count, page.paginator.num_pages) == (page_affichee, 40, 2)
    assert sum(len(groupe.hits) for groupe in response.context["groupes"]) == (
        30 if page_affichee == 1 else 10
    )


def test_a_search_without_hits_has_one_empty_page(client, montlucon, partenaire):
    client.force_login(partenaire)
    for page_demandee in ("1", "3"):
        response = client.get(RECHERCHE, {"q": "introuvable", "page": page_demandee})
        page = response.context["page_obj"]
        assert (page.number, page.paginator.count, list(page)) == (1, 0, [])
        assert "Aucun résultat pour « introuvable »" in response.content.decode()


def test_an_anonymous_visitor_searches_the_public_diagnostics_only(client, montlucon):
    response = client.get(RECHERCHE, {"q": "sante"})
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={RECHERCHE}%3Fq%3Dsante"
    montlucon.est_public = True
    montlucon.save()
    response = client.get(RECHERCHE, {"q": "sante"})
    assert response.context["page_obj"].paginator.count == len(SANTE)


# The rule itself ----------------------------------------------------------------------


def test_query_words_are_normalised_without_common_words():
    assert search.query_words("La SANTÉ des jeunes, et l'accès aux soins") == (
        "sante",
        "jeunes",
        "acces",
        "soins",
    )


def test_stems_fold_plurals_and_endings():
    assert search.stem("jeunes") == search.stem("jeune") == "jeun"
    assert search.stem("sante") == "sant"
    assert search.stem("sociaux") == search.stem("sociale") == "social"


def test_text_rank():
    assert search.text_rank("Éducation à la santé", "sante") > 0
    assert search.text_rank("Éducation à la santé", "sante jeunes") == 0
    assert search.text_rank("Santé", "sante") > search.text_rank("Éducation à la santé", "sante")


def test_a_libelle_written_in_bulk_is_found_by_its_new_words(montlucon, partenaire):
    # As an import writes (no save()): on PostgreSQL the stored search vector follows.
    difficulte = Difficulte.objects.du_diagnostic(montlucon).first()
    Difficulte.objects.filter(pk=difficulte.pk).update(libelle="Pénurie d'ostéopathes")
    assert hits(partenaire, "osteopathes") == {("Difficulté", "Pénurie d'ostéopathes")}
    assert hits(partenaire, "OSTÉOPATHE") == {("Difficulté", "Pénurie d'ostéopathes")}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="index GIN de PostgreSQL")
def test_postgresql_searches_through_the_gin_index():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = search.matching(Difficulte.objects.all(), "libelle", "sante").explain()
    assert "diag_difficulte_recherche_idx" in plan
    # Hits are found and ranked on the stored vectors: none is computed again.
    partenaire = UserFactory(role=Role.PARTENAIRE, contrat=DiagnosticFactory().contrat)
    sql = str(search.search(partenaire, "sante").query)
    assert '"diagnostics_difficulte"."recherche" @@' in sql
    assert "to_tsvector" not in sql
