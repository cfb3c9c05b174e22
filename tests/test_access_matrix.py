"""Who gets what on every URL of the site: roles × URLs × GET/POST.

The table EXPECTED names every URL of the site (enumerated from the resolver: a new URL
missing from the table fails `test_every_url_of_the_site_is_in_the_access_table`).
Pages of a diagnostic are checked on three diagnostics: published, published and
public, draft. An expectation is a status code, or LOGIN (302 to the login page with
?next=) or HOME (302 to the home page).

To add a URL: add a line to EXPECTED, with `kwargs` building its URL arguments (from
the diagnostic under test for pages of a diagnostic) and its expectations per role.
"""

from decimal import Decimal

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from comptes.roles import Role
from diagnostics.imports import upload as uploads
from indicateurs.models import Indicateur, Mesure
from tests.factories import (
    CelluleSourceFactory,
    DiagnosticFactory,
    DifficulteFactory,
    ImportFactory,
    IndicateurFactory,
    PilierFactory,
    SousThemeFactory,
    ThemeFactory,
    UserFactory,
)
from tests.scale import BuiltDiagnostic

ANONYME, PARTENAIRE, EQUIPE, ADMIN = "anonyme", "partenaire", "equipe-ville", "administrateur"
ROLES = {
    ANONYME: None,
    PARTENAIRE: Role.PARTENAIRE,
    EQUIPE: Role.EQUIPE_VILLE,
    ADMIN: Role.ADMINISTRATEUR,
}
LOGIN = "302 vers la connexion"
HOME = "302 vers l'accueil"

# The three diagnostics every page of a diagnostic is checked on.
PUBLIE, PUBLIC, BROUILLON = "publie", "public", "brouillon"
KINDS = {
    PUBLIE: {},
    PUBLIC: {"public": True},
    BROUILLON: {"brouillon": True},
}


def everyone(get, post=405):
    return dict.fromkeys(ROLES, (get, post))


def signed_in(expected, anonymous):
    """`expected` (GET, POST) for every signed-in role, `anonymous` for anonymous visitors."""
    return {**everyone(*expected), ANONYME: anonymous}


# Reading a page of a diagnostic: (GET, POST) per kind of diagnostic and role. The access
# check comes before the method check: a POST is refused like a GET when the user may
# not read the diagnostic (login or 404), and answered 405 when they may.
READ = {
    PUBLIE: signed_in((200, 405), anonymous=(LOGIN, LOGIN)),
    PUBLIC: everyone(200),
    BROUILLON: {
        ANONYME: (LOGIN, LOGIN),
        PARTENAIRE: (404, 404),
        EQUIPE: (200, 405),
        ADMIN: (200, 405),
    },
}


# The forms of the Équipe ville on a page of a diagnostic: other readers get a 403 (404
# for a draft they may not read), anonymous visitors the login page. An empty POST
# re-displays the form with its errors (200).
def edit(get=200, post=200):
    staff = {ANONYME: (LOGIN, LOGIN), EQUIPE: (get, post), ADMIN: (get, post)}
    return {
        PUBLIE: {**staff, PARTENAIRE: (403, 403)},
        PUBLIC: {**staff, PARTENAIRE: (403, 403)},
        BROUILLON: {**staff, PARTENAIRE: (404, 404)},
    }


def no_kwargs(built):
    return {}


# The edit and history pages of diagnostics.views.edition and .history: the role is checked before
# anything else (a partner gets a 403 whatever the diagnostic, existing or not, draft or
# not), anonymous visitors sign in. An empty POST re-displays the form with its errors
# (200); the order buttons answer a POST without direction with a 400.
def staff_only(get=200, post=200):
    staff = {
        ANONYME: (LOGIN, LOGIN),
        PARTENAIRE: (403, 403),
        EQUIPE: (get, post),
        ADMIN: (get, post),
    }
    return dict.fromkeys(KINDS, staff)


def of_diagnostic(**kwargs):
    """URL arguments: the built diagnostic's slug and `kwargs` computed from `built`."""
    return lambda built: {
        "slug": built.diagnostic.slug,
        **{name: value(built) for name, value in kwargs.items()},
    }


def _difficulte(built):
    return built.sous_theme.difficultes.first().pk


def _creation_record(built):
    return built.sous_theme.difficultes.first().history.earliest().history_id


ITEM = of_diagnostic(nature=lambda built: "difficultes", pk=_difficulte)
THEME = of_diagnostic(pk=lambda built: built.sous_theme.theme_id)
SOUS_THEME = of_diagnostic(pk=lambda built: built.sous_theme.pk)
PILIER = of_diagnostic(numero=lambda built: built.pilier.numero)


def indicateur_kwargs(built):
    indicateur = Indicateur.objects.filter(sous_theme=built.sous_theme).first()
    return {"slug": built.diagnostic.slug, "pk": indicateur.pk}


def mesure_kwargs(built):
    """A value of the diagnostic's indicator (created on first use)."""
    indicateur = Indicateur.objects.filter(sous_theme=built.sous_theme).first()
    mesure, _ = Mesure.objects.get_or_create(
        indicateur=indicateur, annee=2024, quartier=None, defaults={"valeur": Decimal(12)}
    )
    return {"slug": built.diagnostic.slug, "pk": mesure.pk}


def of_contract(built):
    return {"slug": built.diagnostic.contrat.slug}


def administrateurs(get, post=405):
    """Screens of the administrators: the others get a 403, anonymous visitors sign in."""
    return {ANONYME: (LOGIN, LOGIN), PARTENAIRE: (403, 403), EQUIPE: (403, 403), ADMIN: (get, post)}


def someone_elses_upload(built):
    """A file uploaded by another administrator: only its uploader may see its preview."""
    pending = uploads.deposit(
        UserFactory(role=Role.ADMINISTRATEUR),
        nature="diagnostic",
        filename="tableau.tsv",
        content=b"Pilier\tTh\xc3\xa8me\n1 Sant\xc3\xa9\tSoins\n",
        diagnostic=built.diagnostic,
    )
    return {"token": pending.token}


# URL name -> (kwargs of its URL, expectations). Expectations are {role: (GET, POST)}
# for the site's pages, {kind: {role: (GET, POST)}} for pages of a diagnostic.
EXPECTED = {
    "home": (no_kwargs, everyone(200)),
    "accessibilite": (no_kwargs, everyone(200)),
    # Accounts. An empty POST re-displays a form with its errors (200).
    "login": (no_kwargs, signed_in((HOME, HOME), anonymous=(200, 200))),
    "logout": (no_kwargs, everyone(405, HOME)),
    "password_reset": (no_kwargs, everyone(200, 200)),
    "password_reset_done": (no_kwargs, everyone(200)),
    "password_reset_confirm": (
        lambda built: {"uidb64": "MQ", "token": "lien-invalide"},
        everyone(200, 200),
    ),
    "password_reset_complete": (no_kwargs, everyone(200)),
    "password_change": (no_kwargs, signed_in((200, 200), anonymous=(LOGIN, LOGIN))),
    "password_change_done": (
        no_kwargs,
        signed_in((200, 405), anonymous=(LOGIN, LOGIN)),
    ),
    # Pages of a diagnostic.
    "diagnostics:diagnostic": (lambda built: {"slug": built.diagnostic.slug}, READ),
    "diagnostics:pilier": (
        lambda built: {"slug": built.diagnostic.slug, "numero": built.pilier.numero},
        READ,
    ),
    "diagnostics:sous_theme": (
        lambda built: {"slug": built.diagnostic.slug, "pk": built.sous_theme.pk},
        READ,
    ),
    "diagnostics:source": (
        lambda built: {"slug": built.diagnostic.slug, "pk": built.cellule.pk},
        READ,
    ),
    # Lists, exports and search: across the diagnostics the user may read (a public one
    # exists here, so anonymous visitors read too).
    "diagnostics:difficultes": (no_kwargs, everyone(200)),
    "diagnostics:difficultes_export": (lambda built: {"format": "csv"}, everyone(200)),
    "diagnostics:recherche": (no_kwargs, everyone(200)),
    "indicateurs:liste": (no_kwargs, everyone(200)),
    "indicateurs:export": (lambda built: {"format": "xlsx"}, everyone(200)),
    # Pages of the indicators of a diagnostic.
    "indicateurs:tableau_de_bord": (lambda built: {"slug": built.diagnostic.slug}, READ),
    "indicateurs:tableau_de_bord_export": (
        lambda built: {"slug": built.diagnostic.slug, "format": "csv"},
        READ,
    ),
    "indicateurs:detail": (indicateur_kwargs, READ),
    "indicateurs:historique": (indicateur_kwargs, edit(post=405)),
    "indicateurs:modifier": (indicateur_kwargs, edit()),
    "indicateurs:saisie": (indicateur_kwargs, edit()),
    "indicateurs:reperes": (indicateur_kwargs, edit()),
    "indicateurs:mesure_modifier": (mesure_kwargs, edit()),
    "indicateurs:mesure_supprimer": (mesure_kwargs, edit()),
    # Imports and exports of the administrators. An empty upload form re-displays with
    # its errors (200); undoing the built import succeeds (302 to its page).
    "diagnostics:imports": (no_kwargs, administrateurs(200)),
    "diagnostics:import_nouveau": (no_kwargs, administrateurs(200, 200)),
    "diagnostics:import_apercu": (someone_elses_upload, administrateurs(404, 404)),
    "diagnostics:import_detail": (
        lambda built: {"pk": built.cellule.import_source_id},
        administrateurs(200),
    ),
    "diagnostics:import_annuler": (
        lambda built: {"pk": built.cellule.import_source_id},
        administrateurs(200, 302),
    ),
    "diagnostics:export_source": (
        lambda built: {"slug": built.diagnostic.slug, "format": "csv"},
        administrateurs(200),
    ),
    # Editing a diagnostic and its history (Équipe ville and Administrateur).
    "diagnostics:modifications": (of_diagnostic(), staff_only(200, 405)),
    "diagnostics:restaurer": (
        of_diagnostic(modele=lambda built: "difficulte", history_id=_creation_record),
        staff_only(),
    ),
    "diagnostics:pilier_modifier": (PILIER, staff_only()),
    "diagnostics:pilier_historique": (PILIER, staff_only(200, 405)),
    "diagnostics:theme_ajouter": (PILIER, staff_only()),
    "diagnostics:theme_modifier": (THEME, staff_only()),
    "diagnostics:theme_supprimer": (THEME, staff_only()),
    "diagnostics:theme_ordre": (THEME, staff_only(405, 400)),
    "diagnostics:theme_historique": (THEME, staff_only(200, 405)),
    "diagnostics:sous_theme_ajouter": (THEME, staff_only()),
    "diagnostics:sous_theme_modifier": (SOUS_THEME, staff_only()),
    "diagnostics:sous_theme_deplacer": (SOUS_THEME, staff_only()),
    "diagnostics:sous_theme_supprimer": (SOUS_THEME, staff_only()),
    "diagnostics:sous_theme_ordre": (SOUS_THEME, staff_only(405, 400)),
    "diagnostics:sous_theme_historique": (SOUS_THEME, staff_only(200, 405)),
    "diagnostics:element_ajouter": (
        of_diagnostic(
            niveau=lambda built: "sous-themes",
            pk=lambda built: built.sous_theme.pk,
            nature=lambda built: "difficultes",
        ),
        staff_only(),
    ),
    "diagnostics:element_modifier": (ITEM, staff_only()),
    "diagnostics:element_deplacer": (ITEM, staff_only()),
    "diagnostics:element_scinder": (ITEM, staff_only()),
    "diagnostics:element_fusionner": (ITEM, staff_only()),
    "diagnostics:element_supprimer": (ITEM, staff_only()),
    "diagnostics:element_ordre": (ITEM, staff_only(405, 400)),
    "diagnostics:element_historique": (ITEM, staff_only(200, 405)),
    # A contract and its editions: read like its editions; managed by administrators,
    # whose role is checked first. Publishing a published edition is refused (409), a
    # draft is published (302 to the contract). With one edition, there is nothing to
    # compare: the page says so, the download is a 404.
    "diagnostics:contrat": (of_contract, READ),
    "diagnostics:comparaison": (of_contract, READ),
    "diagnostics:comparaison_export": (
        of_contract,
        {
            PUBLIE: signed_in((404, 405), anonymous=(LOGIN, LOGIN)),
            PUBLIC: everyone(404),
            BROUILLON: {
                ANONYME: (LOGIN, LOGIN),
                PARTENAIRE: (404, 404),
                EQUIPE: (404, 405),
                ADMIN: (404, 405),
            },
        },
    ),
    "diagnostics:nouvelle_edition": (of_contract, dict.fromkeys(KINDS, administrateurs(200, 400))),
    "diagnostics:etat_edition": (
        of_diagnostic(action=lambda built: "publier"),
        {
            PUBLIE: administrateurs(200, 409),
            PUBLIC: administrateurs(200, 409),
            BROUILLON: administrateurs(200, 302),
        },
    ),
}


def url_names(patterns=None, namespace=""):
    """Every URL name of the site ("namespace:name"); unnamed patterns are reported too."""
    names = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                # Django's admin, see test_the_admin_asks_anonymous_visitors_and_partners_to_sign_in
                continue
            prefix = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names += url_names(pattern.url_patterns, prefix)
        elif isinstance(pattern, URLPattern):
            names.append(f"{namespace}{pattern.name}" if pattern.name else f"<sans nom> {pattern}")
    return names


def cases():
    """One case per (URL name, kind of diagnostic, role, method)."""
    params = []
    for name, (_, expectations) in EXPECTED.items():
        per_kind = expectations if set(expectations) == set(KINDS) else {None: expectations}
        for kind, per_role in per_kind.items():
            for role, (get, post) in per_role.items():
                for method, expected in (("get", get), ("post", post)):
                    case_id = "-".join(filter(None, [name, kind, role, method]))
                    params.append(pytest.param(name, kind, role, method, expected, id=case_id))
    return params


def build(kind):
    """A diagnostic of this kind with one of each thing its pages show."""
    diagnostic = DiagnosticFactory(**KINDS[kind])
    cellule = CelluleSourceFactory(import_source=ImportFactory(diagnostic=diagnostic))
    pilier = PilierFactory(diagnostic=diagnostic, numero=1)
    sous_theme = SousThemeFactory(theme=ThemeFactory(pilier=pilier))
    DifficulteFactory(sous_theme=sous_theme, source=cellule)
    IndicateurFactory(sous_theme=sous_theme)
    return BuiltDiagnostic(diagnostic, pilier, sous_theme, cellule)


@pytest.fixture
def site():
    """The three kinds of diagnostic, side by side."""
    return {kind: build(kind) for kind in KINDS}


def test_every_url_of_the_site_is_in_the_access_table():
    assert sorted(url_names()) == sorted(EXPECTED)


@pytest.mark.parametrize(("name", "kind", "role", "method", "expected"), cases())
def test_access(client, site, name, kind, role, method, expected):
    if ROLES[role] is not None:
        client.force_login(UserFactory(role=ROLES[role]))
    kwargs_of, _ = EXPECTED[name]
    url = reverse(name, kwargs=kwargs_of(site[kind or PUBLIE]))

    response = getattr(client, method)(url)

    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={url}"
    elif expected == HOME:
        assert response.status_code == 302
        assert response["Location"] == reverse("home")
    else:
        assert response.status_code == expected


@pytest.mark.parametrize("role", [ANONYME, PARTENAIRE])
def test_the_admin_asks_anonymous_visitors_and_partners_to_sign_in(client, role):
    if ROLES[role] is not None:
        client.force_login(UserFactory(role=ROLES[role]))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"
