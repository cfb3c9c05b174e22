"""Two cities on one site: what the roles of A see never contains anything of B.

A and B each have a contract with a published (not public) edition and a draft. Every
name of B carries the word "bergamote", every name of A the word "albatros", and the items
of both carry the word "zephyrin" (what a search finds in both). As a Partenaire, an
Équipe ville or an Administrateur of A: the search results, the lists' filter menus, the
CSV and XLSX exports, the import screens and every page of A never contain "bergamote";
B's pages are refused (404, or 403 before any lookup) without naming B. The slugs of B
(in its URLs) do not carry the word, so that a page repeating its URL would not hide a
leak.

The data is built once for the module, inside a transaction rolled back after its last
test; each test runs in its own transaction.
"""

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

import openpyxl
import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse

from comptes.roles import Role
from diagnostics.models import Diagnostic
from tests.factories import (
    CelluleSourceFactory,
    ContratFactory,
    DiagnosticFactory,
    DifficulteFactory,
    ImportFactory,
    IndicateurFactory,
    MesureFactory,
    PilierFactory,
    QuartierFactory,
    SousThemeFactory,
    ThemeFactory,
    UserFactory,
)

A_WORD, B_WORD, SHARED_WORD = "albatros", "bergamote", "zephyrin"
ROLES_OF_A = [Role.PARTENAIRE, Role.EQUIPE_VILLE, Role.ADMINISTRATEUR]


@dataclass
class City:
    contrat: object
    publie: Diagnostic  # published, not public
    brouillon: Diagnostic
    pilier: object  # of the published edition
    theme: object
    sous_theme: object
    difficulte: object
    indicateur: object
    quartier: object


def edition(contrat, city, word, slug, statut, nom):
    """An edition of `city` with one of everything, every name carrying `word`."""
    diagnostic = DiagnosticFactory(
        contrat=contrat,
        titre=f"Diagnostic de {city}",
        slug=slug,
        territoire=f"{city} Communauté",
        nom_edition=nom,
        statut=statut,
    )
    quartier = QuartierFactory(nom=f"Quartier {city}")
    diagnostic.quartiers.set([quartier])
    cellule = CelluleSourceFactory(
        import_source=ImportFactory(diagnostic=diagnostic, nom_fichier=f"{word}.tsv"),
        texte=f"Isolement des familles {word} {SHARED_WORD}.",
    )
    pilier = PilierFactory(diagnostic=diagnostic, numero=1, libelle=f"Pilier {word}")
    theme = ThemeFactory(pilier=pilier, libelle=f"Thème {word}")
    sous_theme = SousThemeFactory(theme=theme, libelle=f"Sous-thème {word}")
    difficulte = DifficulteFactory(
        sous_theme=sous_theme,
        source=cellule,
        libelle=f"Difficulté {word} {SHARED_WORD}",
        quartiers=[quartier],
    )
    indicateur = IndicateurFactory(
        sous_theme=sous_theme, libelle=f"Indicateur {word} {SHARED_WORD}", quartiers=[quartier]
    )
    MesureFactory(indicateur=indicateur, annee=2024, valeur=Decimal(4321))
    return diagnostic, pilier, theme, sous_theme, difficulte, indicateur, quartier


def city(name, word, slug):
    contrat = ContratFactory(nom=f"Contrat de ville de {name}", slug=f"contrat-{slug}")
    publie, *objects = edition(
        contrat, name, word, f"ville-{slug}", Diagnostic.Statut.PUBLIE, "Diagnostic initial"
    )
    brouillon, *_ = edition(
        contrat, name, word, f"ville-{slug}-2", Diagnostic.Statut.BROUILLON, "Révision"
    )
    return City(contrat, publie, brouillon, *objects)


@dataclass
class Site:
    a: City
    b: City
    sessions: dict  # Role -> session key of a user holding that role on A


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            with override_settings(
                PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
            ):
                a = city("Albatros", A_WORD, "a")
                b = city("Bergamote", B_WORD, "b")
                sessions = {}
                for role in ROLES_OF_A:
                    client = Client()
                    client.force_login(UserFactory(role=role, contrat=a.contrat))
                    sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
        except BaseException as error:
            atomic.__exit__(type(error), error, error.__traceback__)
            raise
    yield Site(a, b, sessions)
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.fixture(params=ROLES_OF_A, ids=["partenaire", "equipe-ville", "administrateur"])
def role(request):
    return request.param


@pytest.fixture
def user_of_a(client, site, role):
    """The test client, signed in with a role on A."""
    client.cookies[settings.SESSION_COOKIE_NAME] = site.sessions[role]
    return client


def text_of(response):
    """Everything a response says, lowercased: a page, a CSV file or an XLSX workbook."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if response["Content-Type"].startswith("application/vnd.openxmlformats"):
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        cells = [
            str(value)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        ]
        return "\n".join([*workbook.sheetnames, *cells]).lower()
    text = content.decode("utf-8-sig")
    if response["Content-Type"].startswith("text/csv"):
        return "\n".join(";".join(row) for row in csv.reader(io.StringIO(text))).lower()
    return text.lower()


def assert_says_nothing_of_b(response):
    assert B_WORD not in text_of(response)


def test_the_search_never_finds_b_items(user_of_a, site):
    url = reverse("diagnostics:recherche")

    everywhere = user_of_a.get(url, {"q": SHARED_WORD})
    in_b = user_of_a.get(url, {"q": SHARED_WORD, "diagnostic": site.b.publie.slug})

    assert everywhere.status_code == 200
    assert f"difficulté {A_WORD} {SHARED_WORD}" in text_of(everywhere)  # A's items are found
    assert_says_nothing_of_b(everywhere)
    assert in_b.status_code == 200
    assert_says_nothing_of_b(in_b)


@pytest.mark.parametrize("liste", ["diagnostics:difficultes", "indicateurs:liste"])
def test_the_filter_menus_of_the_lists_never_offer_b_items(user_of_a, site, liste):
    a, b = site.a, site.b
    url = reverse(liste)

    of_a = user_of_a.get(url, {"diagnostic": a.publie.slug})
    asking_for_b = [
        user_of_a.get(url, params)
        for params in (
            {},
            {"q": SHARED_WORD},
            {"diagnostic": b.publie.slug},
            {"diagnostic": b.brouillon.slug},
            {"pilier": b.pilier.pk},
            {"theme": b.theme.pk},
            {"sous_theme": b.sous_theme.pk},
            {"diagnostic": a.publie.slug, "theme": b.theme.pk},
        )
    ]

    assert of_a.status_code == 200
    page = text_of(of_a)
    # The menus of A's diagnostic are there: its pilier, thème, sous-thème and quartier.
    for name in (a.pilier.libelle, a.theme.libelle, a.sous_theme.libelle, a.quartier.nom):
        assert name.lower() in page
    assert_says_nothing_of_b(of_a)
    for response in asking_for_b:
        assert response.status_code == 200
        assert_says_nothing_of_b(response)


@pytest.mark.parametrize("export", ["diagnostics:difficultes_export", "indicateurs:export"])
@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_the_exports_never_contain_b_items(user_of_a, site, export, export_format):
    url = reverse(export, kwargs={"format": export_format})

    everything = user_of_a.get(url)
    matching = user_of_a.get(url, {"q": SHARED_WORD})
    asking_for_b = user_of_a.get(url, {"diagnostic": site.b.publie.slug})

    for response in (everything, matching):
        assert response.status_code == 200
        assert f"{A_WORD} {SHARED_WORD}" in text_of(response)  # A's items are exported
        assert_says_nothing_of_b(response)
    # An unknown diagnostic: back to the list, which shows the form's error.
    assert asking_for_b.status_code == 302
    assert_says_nothing_of_b(user_of_a.get(asking_for_b["Location"]))


def test_the_pages_of_a_never_name_b(user_of_a, site):
    a = site.a
    pages = [
        reverse("home"),
        reverse("diagnostics:diagnostic", kwargs={"slug": a.publie.slug}),
        reverse("diagnostics:pilier", kwargs={"slug": a.publie.slug, "numero": 1}),
        reverse("diagnostics:sous_theme", kwargs={"slug": a.publie.slug, "pk": a.sous_theme.pk}),
        reverse("diagnostics:contrat", kwargs={"slug": a.contrat.slug}),
        reverse("diagnostics:comparaison", kwargs={"slug": a.contrat.slug}),
        reverse("indicateurs:tableau_de_bord", kwargs={"slug": a.publie.slug}),
        reverse("indicateurs:detail", kwargs={"slug": a.publie.slug, "pk": a.indicateur.pk}),
    ]
    for url in pages:
        response = user_of_a.get(url)
        assert response.status_code == 200, url
        assert_says_nothing_of_b(response)


def test_the_pages_of_b_are_refused_without_naming_b(user_of_a, site, role):
    b = site.b
    read = [
        reverse("diagnostics:diagnostic", kwargs={"slug": b.publie.slug}),
        reverse("diagnostics:diagnostic", kwargs={"slug": b.brouillon.slug}),
        reverse("diagnostics:pilier", kwargs={"slug": b.publie.slug, "numero": 1}),
        reverse("diagnostics:sous_theme", kwargs={"slug": b.publie.slug, "pk": b.sous_theme.pk}),
        reverse("indicateurs:tableau_de_bord", kwargs={"slug": b.publie.slug}),
        reverse("indicateurs:detail", kwargs={"slug": b.publie.slug, "pk": b.indicateur.pk}),
        reverse("indicateurs:modifier", kwargs={"slug": b.publie.slug, "pk": b.indicateur.pk}),
        reverse("diagnostics:contrat", kwargs={"slug": b.contrat.slug}),
        reverse("diagnostics:comparaison", kwargs={"slug": b.contrat.slug}),
        # B's edition asked for in a comparison of A's editions.
        reverse("diagnostics:comparaison", kwargs={"slug": site.a.contrat.slug})
        + f"?de={b.publie.slug}&a={site.a.publie.slug}",
    ]
    # The pages that change a diagnostic: whoever cannot read B's editions gets the same
    # 404 as for an edition that does not exist, whatever their role in A.
    edit = [
        reverse(
            "diagnostics:element_modifier",
            kwargs={"slug": b.publie.slug, "nature": "difficultes", "pk": b.difficulte.pk},
        ),
        reverse("diagnostics:pilier_modifier", kwargs={"slug": b.publie.slug, "numero": 1}),
        reverse("diagnostics:modifications", kwargs={"slug": b.publie.slug}),
    ]
    for url in read + edit:
        response = user_of_a.get(url)
        assert response.status_code == 404, url
        assert "<title>Page introuvable".lower() in text_of(response), url
        assert_says_nothing_of_b(response)


def test_the_import_screens_of_a_never_show_b(client, site):
    client.cookies[settings.SESSION_COOKIE_NAME] = site.sessions[Role.ADMINISTRATEUR]
    pages = [
        reverse("diagnostics:imports"),
        reverse("diagnostics:import_nouveau"),
        reverse("diagnostics:import_nouveau") + f"?diagnostic={site.b.publie.slug}",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_says_nothing_of_b(response)
    assert f"{A_WORD}.tsv" in text_of(client.get(pages[0]))  # A's imports are listed
    b_import = site.b.publie.imports.get()
    for url in (
        reverse("diagnostics:import_detail", kwargs={"pk": b_import.pk}),
        reverse("diagnostics:export_source", kwargs={"slug": site.b.publie.slug, "format": "csv"}),
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert_says_nothing_of_b(response)
