"""The home page orients each role: their contracts, each edition's key figures (counted
in the database), its last change and last import, and the links each role may follow;
nothing of an edition the user may not read; a fixed number of queries."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from comptes.roles import Role
from diagnostics.accueil import contracts_for
from diagnostics.models import Diagnostic, Difficulte, Pilier
from indicateurs.models import Indicateur
from tests.factories import (
    ContratFactory,
    DiagnosticFactory,
    DifficulteFactory,
    ImportFactory,
    IndicateurFactory,
    MembreFactory,
    MesureFactory,
    OrganisationFactory,
    PilierFactory,
    QuartierFactory,
    SousThemeFactory,
    ThemeFactory,
    UserFactory,
)


@pytest.fixture
def contrat(db):
    """The personas of tests/conftest.py hold their roles on this contract (no seed)."""
    return ContratFactory(nom="Contrat de ville de Montluçon", slug="montlucon-contrat")


def fill(diagnostic, *, piliers, difficultes, indicateurs, quartiers, word):
    """`piliers` piliers, then items and quartiers, every name carrying `word`."""
    created = [
        PilierFactory(diagnostic=diagnostic, numero=n + 1, libelle=f"Pilier {word} {n}")
        for n in range(piliers)
    ]
    theme = ThemeFactory(pilier=created[0], libelle=f"Thème {word}") if created else None
    sous_theme = SousThemeFactory(theme=theme, libelle=f"Sous-thème {word}") if theme else None
    for n in range(difficultes):
        if n % 2:  # some at the thème's own level
            DifficulteFactory(sous_theme=None, theme=theme, libelle=f"Difficulté {word} {n}")
        else:
            DifficulteFactory(sous_theme=sous_theme, libelle=f"Difficulté {word} {n}")
    for n in range(indicateurs):
        IndicateurFactory(sous_theme=sous_theme, libelle=f"Indicateur {word} {n}")
    diagnostic.quartiers.set(
        [QuartierFactory(nom=f"Quartier {word} {n}") for n in range(quartiers)]
    )
    return sous_theme


def figures(edition):
    return {chiffre.libelle: chiffre.nombre for chiffre in edition.chiffres}


def expected_figures(diagnostic):
    """What the database holds for this edition, counted here without the home's code."""
    return {
        "Piliers": Pilier.objects.filter(diagnostic=diagnostic).count(),
        "Difficultés prégnantes": Difficulte.objects.filter(diagnostic=diagnostic).count(),
        "Indicateurs": Indicateur.objects.filter(diagnostic=diagnostic).count(),
        "Quartiers": diagnostic.quartiers.count(),
    }


@pytest.fixture
def city(contrat):
    """A contract with a published edition (3 piliers, 5 difficultés, 2 indicateurs,
    2 quartiers), an older frozen one and a draft (with other numbers)."""
    fige = DiagnosticFactory(
        contrat=contrat,
        nom_edition="Diagnostic de 2020",
        date_edition="2020-03-01",
        statut=Diagnostic.Statut.FIGE,
    )
    publie = DiagnosticFactory(
        contrat=contrat, nom_edition="Diagnostic initial", date_edition="2024-03-01"
    )
    brouillon = DiagnosticFactory(
        contrat=contrat,
        nom_edition="Révision à mi-parcours",
        date_edition="2027-01-15",
        brouillon=True,
    )
    fill(fige, piliers=1, difficultes=1, indicateurs=0, quartiers=0, word="ancien")
    fill(publie, piliers=3, difficultes=5, indicateurs=2, quartiers=2, word="publie")
    fill(brouillon, piliers=4, difficultes=7, indicateurs=3, quartiers=1, word="brouillon")
    return fige, publie, brouillon


def only(accueil):
    assert len(accueil.contrats) == 1
    return accueil.contrats[0]


# What each role sees --------------------------------------------------------------------


def test_a_partner_sees_the_published_edition_of_their_contract_with_its_figures(partenaire, city):
    fige, publie, brouillon = city

    accueil = contracts_for(partenaire)

    item = only(accueil)
    assert accueil.membre
    assert item.role == "Partenaire"
    assert item.courante.diagnostic == publie
    assert item.brouillon is None  # a partner never reads a draft
    assert item.autres_editions == 1  # the frozen one, on the contract's page
    assert (item.modifie, item.administre) == (False, False)
    assert figures(item.courante) == expected_figures(publie)
    assert figures(item.courante) == {
        "Piliers": 3,
        "Difficultés prégnantes": 5,
        "Indicateurs": 2,
        "Quartiers": 2,
    }


def test_the_city_team_also_sees_the_draft_with_its_own_figures(marie, city):
    fige, publie, brouillon = city

    item = only(contracts_for(marie))

    assert item.role == "Équipe ville"
    assert item.courante.diagnostic == publie
    assert item.brouillon.diagnostic == brouillon
    assert figures(item.brouillon) == expected_figures(brouillon)
    assert figures(item.brouillon) != figures(item.courante)
    assert (item.modifie, item.administre) == (True, False)


def test_an_administrator_administers_their_contract(paul, city):
    item = only(contracts_for(paul))

    assert item.role == "Administrateur"
    assert (item.modifie, item.administre) == (True, True)


def test_the_national_administrator_sees_every_contract(city):
    other = DiagnosticFactory(contrat=ContratFactory(nom="Autre contrat"), brouillon=True)
    superuser = get_user_model().objects.create_superuser("nationale", "n@example.org", "x")

    accueil = contracts_for(superuser)

    assert [item.contrat.nom for item in accueil.contrats] == [
        "Autre contrat",
        "Contrat de ville de Montluçon",
    ]
    assert all(item.role == "Administration nationale" for item in accueil.contrats)
    assert accueil.contrats[0].courante is None
    assert accueil.contrats[0].brouillon.diagnostic == other


def test_a_frozen_edition_is_current_only_when_nothing_is_published(partenaire, city):
    fige, publie, brouillon = city
    publie.statut = Diagnostic.Statut.FIGE
    publie.save()
    assert only(contracts_for(partenaire)).courante.diagnostic == publie  # the latest
    publie.delete()
    assert only(contracts_for(partenaire)).courante.diagnostic == fige


def test_anyone_else_sees_the_public_editions_only(city):
    fige, publie, brouillon = city
    public = DiagnosticFactory(
        contrat=ContratFactory(nom="Contrat public"), public=True, titre="Diagnostic ouvert"
    )
    DiagnosticFactory(contrat=public.contrat, brouillon=True, nom_edition="Brouillon caché")
    sans_role = UserFactory()

    for user in (AnonymousUser(), sans_role):
        accueil = contracts_for(user)
        assert not accueil.membre
        item = only(accueil)
        assert (item.contrat.nom, item.role) == ("Contrat public", "")
        assert item.courante.diagnostic == public
        assert (item.brouillon, item.autres_editions) == (None, 0)


def test_a_member_sees_their_contracts_only_not_the_public_ones_of_others(partenaire, city):
    DiagnosticFactory(contrat=ContratFactory(nom="Contrat public"), public=True)

    assert [item.contrat.nom for item in contracts_for(partenaire).contrats] == [
        "Contrat de ville de Montluçon"
    ]


def test_a_partner_of_a_contract_with_a_draft_only_sees_the_contract_without_editions(contrat):
    DiagnosticFactory(contrat=contrat, brouillon=True, nom_edition="Premier brouillon")
    partenaire = UserFactory(role=Role.PARTENAIRE, contrat=contrat)

    item = only(contracts_for(partenaire))

    assert (item.courante, item.brouillon, item.editions) == (None, None, [])
    client_page = _page(partenaire)
    assertContains(client_page, "Aucune édition de ce contrat n’est encore publiée.")
    assertNotContains(client_page, "Premier brouillon")


def test_roles_held_through_an_organisation_are_named(contrat, city):
    organisation = OrganisationFactory(nom="CAF de l'Allier")
    MembreFactory(contrat=contrat, organisation=organisation, compte=None, role=Role.PARTENAIRE)
    agent = UserFactory(organisation=organisation)

    assert only(contracts_for(agent)).role == "Partenaire"


# Last change, last import ------------------------------------------------------------------


def test_the_last_change_is_the_latest_history_row_of_the_edition_whoever_wrote_it(
    marie, paul, city
):
    fige, publie, brouillon = city
    difficulte = Difficulte.objects.filter(diagnostic=publie).first()
    difficulte._history_user = marie
    difficulte.libelle = "Difficulté reformulée"
    difficulte.save()
    # A later change of the draft is the draft's, not the published edition's.
    pilier = Pilier.objects.get(diagnostic=brouillon, numero=1)
    pilier._history_user = paul
    pilier.libelle = "Pilier renommé"
    pilier.save()

    item = only(contracts_for(marie))

    latest = Difficulte.history.filter(diagnostic_id=publie.pk).order_by("-history_id")[0]
    assert item.courante.derniere_modification.auteur == "Marie Dupont"
    assert item.courante.derniere_modification.date == latest.history_date
    assert item.brouillon.derniere_modification.auteur == "Paul Martin"

    # A value entered afterwards for an indicator of the published edition is its last change.
    mesure = MesureFactory.build(indicateur=Indicateur.objects.filter(diagnostic=publie)[0])
    mesure._history_user = paul
    mesure.valeur = 12
    mesure.save()

    item = only(contracts_for(marie))
    assert item.courante.derniere_modification.auteur == "Paul Martin"
    assert item.courante.derniere_modification.date == mesure.history.get().history_date


def test_a_change_written_by_an_import_names_its_file(montlucon):
    """The seed's rows were written by its import, without a person."""
    partenaire = UserFactory(role=Role.PARTENAIRE, contrat=montlucon.contrat)

    item = only(contracts_for(partenaire))

    assert item.courante.derniere_modification.auteur == ""
    assert item.courante.derniere_modification.fichier == "diagnostic-montlucon.tsv"
    assert figures(item.courante) == expected_figures(montlucon)
    assertContains(_page(partenaire), "par l’import du fichier « diagnostic-montlucon.tsv »")


def test_an_edition_without_history_has_no_last_change(partenaire, contrat):
    DiagnosticFactory(contrat=contrat)

    assert only(contracts_for(partenaire)).courante.derniere_modification is None


def test_the_last_import_is_the_latest_of_the_edition(partenaire, city):
    fige, publie, brouillon = city
    ImportFactory(diagnostic=publie, nom_fichier="premier.xlsx")
    latest = ImportFactory(diagnostic=publie, nom_fichier="second.ods")
    ImportFactory(diagnostic=brouillon, nom_fichier="brouillon.xlsx")
    ImportFactory(diagnostic=fige, nom_fichier="ancien.xlsx")

    item = only(contracts_for(partenaire))

    assert item.courante.dernier_import == latest
    page = _page(partenaire)
    assertContains(page, "« second.ods »")
    for hidden in ("premier.xlsx", "brouillon.xlsx", "ancien.xlsx"):
        assertNotContains(page, hidden)


# The page ---------------------------------------------------------------------------------


def _page(user):
    client = Client()
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response


def test_each_role_gets_the_links_it_may_follow(partenaire, marie, paul, city):
    fige, publie, brouillon = city
    ImportFactory(diagnostic=publie, nom_fichier="seed.tsv")
    tableau = reverse("indicateurs:tableau_de_bord", args=[publie.slug])
    modifications = reverse("diagnostics:modifications", args=[publie.slug])
    membres = reverse("diagnostics:membres", args=[publie.contrat.slug])
    imports = reverse("diagnostics:imports")

    page = _page(partenaire)
    assertContains(page, f'href="{tableau}"')
    assertContains(page, f'href="{publie.contrat.get_absolute_url()}"')
    assertContains(page, "Votre rôle : <strong>Partenaire</strong>", html=True)
    for absent in (modifications, membres, imports, brouillon.get_absolute_url()):
        assertNotContains(page, f'href="{absent}"')

    page = _page(marie)
    assertContains(page, f'href="{modifications}"')
    assertContains(page, f'href="{brouillon.get_absolute_url()}"')
    assertContains(page, "Modifier le brouillon")
    assertContains(page, "Édition en préparation")
    for absent in (membres, reverse("diagnostics:import_nouveau")):
        assertNotContains(page, f'href="{absent}')

    page = _page(paul)
    assertContains(page, f'href="{membres}"')
    assertContains(page, f'href="{imports}"')
    assertContains(page, f'href="{reverse("diagnostics:import_nouveau")}?diagnostic=')
    record = publie.imports.get()
    assertContains(page, f'href="{reverse("diagnostics:import_detail", args=[record.pk])}"')

    # Every link of the page answers (no 403/404 behind a link it shows).
    for user in (partenaire, marie, paul):
        page = _page(user)
        client = Client()
        client.force_login(user)
        for href in set(_links(page)):
            assert client.get(href).status_code == 200, (user, href)


def test_an_anonymous_visitor_follows_every_link_of_the_home(client, city):
    fige, publie, brouillon = city
    publie.est_public = True
    publie.save()

    page = client.get(reverse("home"))

    assertContains(page, publie.get_absolute_url())
    assertNotContains(page, brouillon.get_absolute_url())
    assertNotContains(page, reverse("diagnostics:modifications", args=[publie.slug]))
    for href in set(_links(page)):
        response = client.get(href)
        assert response.status_code == 200 or href == reverse("login"), href


def _links(response):
    return [
        href
        for href in re.findall(r'href="(/[^"]*)"', response.content.decode())
        if not href.startswith("/static/")
    ]


def test_a_visitor_with_no_contract_reads_an_introduction(client):
    response = client.get(reverse("home"))

    assert response.status_code == 200
    assertContains(response, "Diagnostics des contrats de ville")
    assertContains(response, "difficultés prégnantes")
    assertContains(response, f'href="{reverse("login")}"')
    assertContains(response, "Aucun diagnostic n’est encore consultable sans compte.")


def test_a_signed_in_account_without_a_role_is_told_how_to_get_one(client):
    client.force_login(UserFactory())

    response = client.get(reverse("home"))

    assertContains(response, "Votre compte n’a encore de rôle dans aucun contrat de ville")


def test_nothing_of_another_contract_leaks_on_the_home_page(city, contrat):
    """Two cities: B's names all carry "bergamote"; A's roles never read it on their home,
    and A's partner does not read A's draft either."""
    fige, publie, brouillon = city
    b = ContratFactory(nom="Contrat bergamote", slug="b")
    b_publie = DiagnosticFactory(contrat=b, titre="Diagnostic bergamote", nom_edition="bergamote")
    b_brouillon = DiagnosticFactory(
        contrat=b, titre="Brouillon bergamote", nom_edition="Révision bergamote", brouillon=True
    )
    for diagnostic in (b_publie, b_brouillon):
        fill(diagnostic, piliers=2, difficultes=2, indicateurs=1, quartiers=1, word="bergamote")
        ImportFactory(diagnostic=diagnostic, nom_fichier="bergamote.xlsx")
    b_author = UserFactory(first_name="Bergamote", last_name="Bergamote")
    difficulte = Difficulte.objects.filter(diagnostic=b_brouillon).first()
    difficulte._history_user = b_author
    difficulte.save()
    ImportFactory(diagnostic=brouillon, nom_fichier="brouillon-de-a.xlsx")

    for role in (Role.PARTENAIRE, Role.EQUIPE_VILLE, Role.ADMINISTRATEUR):
        page = _page(UserFactory(role=role, contrat=contrat))
        assert "bergamote" not in page.content.decode().lower(), role
        assertContains(page, "Contrat de ville de Montluçon")
        if role == Role.PARTENAIRE:
            assertNotContains(page, "Révision à mi-parcours")
            assertNotContains(page, "brouillon-de-a.xlsx")
        else:
            assertContains(page, "brouillon-de-a.xlsx")


# Queries ----------------------------------------------------------------------------------


def build_contracts(count, member, role):
    """`count` contracts, each with a published edition and a draft holding items,
    history by a person and imports; `member` holds `role` on each."""
    for n in range(count):
        contrat = ContratFactory()
        MembreFactory(contrat=contrat, compte=member, role=role)
        for statut in (Diagnostic.Statut.PUBLIE, Diagnostic.Statut.BROUILLON):
            diagnostic = DiagnosticFactory(contrat=contrat, statut=statut, nom_edition=statut)
            fill(diagnostic, piliers=2, difficultes=3, indicateurs=2, quartiers=2, word=f"n{n}")
            ImportFactory(diagnostic=diagnostic)
            item = Indicateur.objects.filter(diagnostic=diagnostic).first()
            MesureFactory(indicateur=item, valeur=3)
            item._history_user = member  # the latest change, by the member
            item.save()


@pytest.mark.parametrize("role", [Role.PARTENAIRE, Role.ADMINISTRATEUR])
def test_the_figures_take_as_many_queries_for_one_contract_as_for_several(
    role, django_assert_num_queries
):
    user = UserFactory()
    build_contracts(1, user, role)
    # The user's roles (1), the contracts (1), the editions with their figures (1), the
    # last changes (1), the last imports (1), the piliers (1).
    fresh = get_user_model().objects.get(pk=user.pk)  # no roles read yet
    with django_assert_num_queries(6):
        one = contracts_for(fresh)
    build_contracts(4, user, role)
    fresh = get_user_model().objects.get(pk=user.pk)
    with django_assert_num_queries(6):
        several = contracts_for(fresh)

    assert len(one.contrats) == 1 and len(several.contrats) == 5
    for item in several.contrats:
        for edition in item.editions:
            assert figures(edition) == expected_figures(edition.diagnostic)
            assert edition.derniere_modification.auteur == user.get_username()
            assert edition.dernier_import is not None
            assert edition.piliers == list(edition.diagnostic.piliers.order_by("numero"))


def test_the_page_takes_as_many_queries_for_one_contract_as_for_several(
    client, django_assert_num_queries
):
    user = UserFactory()
    client.force_login(user)
    build_contracts(1, user, Role.ADMINISTRATEUR)
    client.get(reverse("home"))  # the session's first use
    # The session, the user, their roles, then the five queries of the home.
    with django_assert_num_queries(8):
        client.get(reverse("home"))
    build_contracts(4, user, Role.ADMINISTRATEUR)
    with django_assert_num_queries(8):
        response = client.get(reverse("home"))
    assert response.content.decode().count('class="contrat-accueil"') == 5
