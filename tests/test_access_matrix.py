"""Who gets what on every URL of the site, with two cities: roles × URLs × GET/POST.

The table EXPECTED names every URL of the site (enumerated from the resolver: a new URL
missing from the table fails `test_every_url_of_the_site_is_in_the_access_table`).

Two cities, A and B. The roles are held on A's contract: a Partenaire, an Équipe ville and
an Administrateur of A; besides them, anonymous visitors and the national administrator
(an active superuser, who may do everything everywhere). Pages of a diagnostic are checked
on six editions: A's published, draft and frozen editions (one contract), B's published
and draft editions (another contract, on which A's roles hold nothing) and a published
edition of B marked public (its own contract, readable by anyone). Pages of a contract
are checked once per contract: A's, B's and that of B's public edition; so are the pages
of the annual reports, each contract holding a 2025 report (see `_rapport_page`).

An expectation is a status code, or LOGIN (302 to the login page with ?next=) or a
`Redirect` (302 to a page of the site: HOME, LOGIN_PAGE...). A case where the code is
believed wrong is marked with `bug(...)`: a strict xfail saying what is expected and why.

The data is built once for the module (`site`, inside a transaction rolled back at the
end of the module); each test runs in its own transaction, rolled back after it, so the
POSTs that change something are undone.

To add a URL: add a line to EXPECTED, with `kwargs` building its URL arguments (from
the diagnostic under test for pages of a diagnostic) and its expectations per role.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from comptes.proconnect import is_configured
from comptes.roles import Role
from diagnostics import membres
from diagnostics.imports import upload as uploads
from diagnostics.models import Diagnostic, Membre
from indicateurs.models import Indicateur, Mesure
from rapports.models import Rapport
from tests.factories import (
    CelluleSourceFactory,
    ContratFactory,
    DiagnosticFactory,
    DifficulteFactory,
    ImportFactory,
    IndicateurFactory,
    InstanceFactory,
    MembreFactory,
    PilierFactory,
    QuartierFactory,
    RapportFactory,
    SousThemeFactory,
    ThemeFactory,
    UserFactory,
)
from tests.scale import BuiltDiagnostic

ANONYME, PARTENAIRE, EQUIPE, ADMIN, NATIONAL = (
    "anonyme",
    "partenaire-A",
    "equipe-ville-A",
    "administrateur-A",
    "admin-national",
)
# The role of each persona on A's contract (the national administrator is a superuser).
ROLES = {
    ANONYME: None,
    PARTENAIRE: Role.PARTENAIRE,
    EQUIPE: Role.EQUIPE_VILLE,
    ADMIN: Role.ADMINISTRATEUR,
    NATIONAL: None,
}
OF_A = (PARTENAIRE, EQUIPE, ADMIN)
STAFF_OF_A = (EQUIPE, ADMIN)
LOGIN = "302 vers la connexion"


class Redirect(str):
    """A 302 to this page of the site (by URL name), without any ?next=."""

    def __new__(cls, url_name):
        redirect = super().__new__(cls, f"302 vers {url_name}")
        redirect.url_name = url_name
        return redirect


HOME = Redirect("home")
LOGIN_PAGE = Redirect("login")

# The six editions every page of a diagnostic is checked on: (contract, fields).
A_PUBLIE, A_BROUILLON, A_FIGE = "A-publie", "A-brouillon", "A-fige"
B_PUBLIE, B_BROUILLON, B_PUBLIC = "B-publie", "B-brouillon", "B-public"
Statut = Diagnostic.Statut
KINDS = {
    A_PUBLIE: ("A", {"statut": Statut.PUBLIE}),
    A_BROUILLON: ("A", {"statut": Statut.BROUILLON}),
    A_FIGE: ("A", {"statut": Statut.FIGE}),
    B_PUBLIE: ("B", {"statut": Statut.PUBLIE}),
    B_BROUILLON: ("B", {"statut": Statut.BROUILLON}),
    B_PUBLIC: ("B public", {"statut": Statut.PUBLIE, "est_public": True}),
}
A_KINDS = (A_PUBLIE, A_BROUILLON, A_FIGE)
B_HIDDEN = (B_PUBLIE, B_BROUILLON)  # B's editions that A's roles may not read
# The pages of a contract: once per contract, through one of its editions.
CONTRACT_KINDS = (A_PUBLIE, B_PUBLIE, B_PUBLIC)


def everyone(get, post=405):
    return dict.fromkeys(ROLES, (get, post))


def signed_in(expected, anonymous):
    """`expected` (GET, POST) for every signed-in role, `anonymous` for anonymous visitors."""
    return {**everyone(*expected), ANONYME: anonymous}


def per_kind(build):
    """{kind: {role: (GET, POST)}} from `build(kind, role)`."""
    return {kind: {role: build(kind, role) for role in ROLES} for kind in KINDS}


def bug(expected, reason):
    """An expectation the code does not meet today (strict xfail): see the report."""
    return pytest.param(expected, marks=pytest.mark.xfail(strict=True, reason=reason))


# Reading a page of a diagnostic. The access check comes before the method check: a POST is
# refused like a GET when the user may not read the diagnostic (login or 404), and answered
# 405 when they may; on a frozen edition any POST is a 403 (the edition never changes).
def _read(kind, role, post=405):
    if kind == B_PUBLIC:
        return (200, post)
    if role == ANONYME:
        return (LOGIN, LOGIN)
    if role != NATIONAL and (kind in B_HIDDEN or (kind == A_BROUILLON and role == PARTENAIRE)):
        return (404, 404)
    return (200, 403 if kind == A_FIGE else post)


READ = per_kind(_read)


def _writer(kind, role, get, post, reads_only):
    """A page that changes a diagnostic (or reads its history) for those who edit it.

    `reads_only`: a page to read (its history): on a frozen edition its GET is answered,
    any POST is a 403; else the page is a 403 on a frozen edition. Who may read the edition
    but not edit it gets a 403; who may not read it a 404 (as an edition that does not
    exist)."""
    if role == ANONYME:
        return (LOGIN, LOGIN)
    if role == NATIONAL or (role in STAFF_OF_A and kind in A_KINDS):
        if kind == A_FIGE:
            return (get, 403) if reads_only else (403, 403)
        return (get, post)
    # A Partenaire of A on A's editions, or A's roles on B's: what they may not read is a
    # 404, what they may read a 403.
    readable = kind == B_PUBLIC or (role == PARTENAIRE and kind in (A_PUBLIE, A_FIGE))
    return (403, 403) if readable else (404, 404)


# The forms of the indicators (Équipe ville and Administrateur): the edition is looked up
# first, so a Partenaire gets a 404 on what they may not read. An empty POST re-displays
# the form with its errors (200).
def edit(get=200, post=200, reads_only=False):
    return per_kind(lambda kind, role: _writer(kind, role, get, post, reads_only))


# The edit and history pages of diagnostics.views.edition and .history: the same rule as
# the forms of the indicators (a Partenaire gets a 403 on what they may read, a 404 on a
# draft they may not). The order buttons answer a POST without direction with a 400.
def staff_only(get=200, post=200, reads_only=False):
    return edit(get, post, reads_only)


def history(get=200):
    """A history page: read by those who edit, frozen edition included; no POST."""
    return staff_only(get, 405, reads_only=True)


# The screens of the administrators (diagnostics.views.imports): for the administrators
# of some contract (the others get a 403 before anything, anonymous visitors sign in),
# each about their own contracts only (B's imports and diagnostics are 404 for A's
# Administrateur); the national administrator administers every contract.
def administrateurs(get, post=405):
    """A screen of the site (not of one diagnostic)."""
    return {
        ANONYME: (LOGIN, LOGIN),
        PARTENAIRE: (403, 403),
        EQUIPE: (403, 403),
        ADMIN: (get, post),
        NATIONAL: (get, post),
    }


def administrateurs_of(get, post=405, other_post=404, frozen=None):
    """A screen about one diagnostic: `other_post` is the POST of A's Administrateur on B's
    diagnostics (405 when the view has no POST: answered before any lookup); `frozen`
    (GET, POST) on A's frozen edition, if it differs."""

    def expected(kind, role):
        if role in (ANONYME, PARTENAIRE, EQUIPE):
            return administrateurs(get, post)[role]
        if kind == A_FIGE and frozen is not None:
            return frozen
        if role == ADMIN and kind not in A_KINDS:
            return (404, other_post)
        return (get, post)

    return per_kind(expected)


def no_kwargs(built):
    return {}


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


def of_member(built):
    return {"slug": built.diagnostic.contrat.slug, "pk": built.membre}


def someone_elses_upload(built):
    """A file uploaded by another administrator: only its uploader may see its preview."""
    pending = uploads.deposit(
        built.uploader,
        nature="diagnostic",
        filename="tableau.tsv",
        content=b"Pilier\tTh\xc3\xa8me\n1 Sant\xc3\xa9\tSoins\n",
        diagnostic=built.diagnostic,
    )
    return {"token": pending.token}


def contract_pages(a, b, public):
    """The pages of a contract, {kind: {role: (GET, POST)}}: A's contract (`a`), B's (`b`)
    and that of B's public edition (`public`), each {role: (GET, POST)}."""
    return {A_PUBLIE: a, B_PUBLIE: b, B_PUBLIC: public}


def _read_contract(get_public=200):
    """A page reading a contract: like its editions (B's is a 404 for A's roles); a POST
    is answered 405 to those who may read it."""
    return contract_pages(
        a=signed_in((200, 405), anonymous=(LOGIN, LOGIN)),
        b={**dict.fromkeys(OF_A, (404, 404)), ANONYME: (LOGIN, LOGIN), NATIONAL: (200, 405)},
        public=everyone(get_public, 405),
    )


def _manage_contract(get, post):
    """A screen of an administrator on a contract: the role is asked first (any contract),
    then the contract is looked up (404 if unreadable), then its administration (403)."""
    refused = {ANONYME: (LOGIN, LOGIN), PARTENAIRE: (403, 403), EQUIPE: (403, 403)}
    return contract_pages(
        a={**refused, ADMIN: (get, post), NATIONAL: (get, post)},
        b={**refused, ADMIN: (404, 404), NATIONAL: (get, post)},
        public={**refused, ADMIN: (403, 403), NATIONAL: (get, post)},
    )


def _etat_edition(kind, role):
    """Publishing an edition (Administrateur): refused (409) unless it is a draft, which
    gets published (302 to its contract); a frozen edition refuses any action (403)."""
    if role == ANONYME:
        return (LOGIN, LOGIN)
    if role in (PARTENAIRE, EQUIPE):
        return (403, 403)
    if role == ADMIN and kind in B_HIDDEN:
        return (404, 404)
    if role == ADMIN and kind == B_PUBLIC:
        return (403, 403)
    if kind == A_FIGE:
        return (403, 403)
    return (200, 302 if kind in (A_BROUILLON, B_BROUILLON) else 409)


# The annual reports (rapports.acces, rapports.views.mixins), one per contract: A's in
# consultation (its body gave an opinion, with its signed file), B's published (its body
# too), and a draft on the contract of B's public edition (its body has not answered).
# A report that a signed-in user may not read is a 404 (as one that does not exist), the
# login page for an anonymous visitor; a POST to a page without one is answered 405 once
# the report is readable. Reading: a draft for the Équipe ville and the Administrateurs,
# from the consultation on for every member, anyone once published. Writing the sections,
# asking for contributions and keeping the consultation's record: Équipe ville and
# Administrateurs (an empty form is refused, 400; a contribution without partner comes
# back to the report with a message, 302). Changing the state: Administrateurs (an
# unknown action comes back to the report, 302). The signed opinions: members only.
RAPPORT_DOCUMENT = "odt"


def roles(anonyme, partenaire, equipe, administrateur, national):
    return {
        ANONYME: anonyme,
        PARTENAIRE: partenaire,
        EQUIPE: equipe,
        ADMIN: administrateur,
        NATIONAL: national,
    }


def _rapport(built):
    return Rapport.objects.get(contrat=built.diagnostic.contrat_id, annee=2025)


def of_rapport(**kwargs):
    """URL arguments of the 2025 report of the built diagnostic's contract, and
    `kwargs` computed from that report."""

    def build_kwargs(built):
        rapport = _rapport(built)
        return {
            "slug": built.diagnostic.contrat.slug,
            "annee": rapport.annee,
            "version": rapport.version,
            **{name: value(rapport) for name, value in kwargs.items()},
        }

    return build_kwargs


def _rapport_page(a, b, on_the_draft_national):
    """A page of a report: `a` and `b` {role: (GET, POST)} on A's and B's; the draft of
    the third contract is a 404 for A's roles, the login page for anonymous visitors."""
    return contract_pages(
        a=a,
        b=b,
        public=roles((LOGIN, LOGIN), (404, 404), (404, 404), (404, 404), on_the_draft_national),
    )


def _lecture_rapport(get=200, post=405):
    """Reading a report (its page, its documents)."""
    return _rapport_page(
        a=roles((LOGIN, LOGIN), (get, post), (get, post), (get, post), (get, post)),
        b=everyone(get, post),
        on_the_draft_national=(get, post),
    )


def _ecriture_rapport(get, post, partner_reads):
    """A page of the Équipe ville and the Administrateurs on a report (`partner_reads`:
    readers who may not write get the page, their POST a 403)."""
    reader = (200, 403) if partner_reads else (403, 403)
    anonymous_on_b = (200, LOGIN) if partner_reads else (LOGIN, LOGIN)
    return _rapport_page(
        a=roles((LOGIN, LOGIN), reader, (get, post), (get, post), (get, post)),
        b=roles(anonymous_on_b, reader, reader, reader, (get, post)),
        on_the_draft_national=(get, post),
    )


def _etat_rapport():
    """The state changes (POST only): Administrateurs."""
    refused = (403, 403)
    return _rapport_page(
        a=roles((LOGIN, LOGIN), refused, refused, (405, 302), (405, 302)),
        b=roles(
            (LOGIN, LOGIN),
            refused,
            refused,
            refused,
            (405, 302),
        ),
        on_the_draft_national=(405, 302),
    )


def _liste_rapports():
    """A contract's reports: read by whoever reads the contract or one of its reports;
    starting one is for its Administrateurs (an empty form is refused, 400)."""
    start_refused = (200, 403)
    return contract_pages(
        a=roles((LOGIN, LOGIN), start_refused, start_refused, (200, 400), (200, 400)),
        b=roles(
            (200, LOGIN),
            start_refused,
            start_refused,
            start_refused,
            (200, 400),
        ),
        public=roles(
            (200, LOGIN),
            start_refused,
            start_refused,
            start_refused,
            (200, 400),
        ),
    )


def _derniere_version():
    """/rapports/<année>/: a redirect to the latest version the user may read (a POST is
    answered 405 before anything: it tells nothing of the reports)."""
    return contract_pages(
        a=roles((LOGIN, 405), (302, 405), (302, 405), (302, 405), (302, 405)),
        b=everyone(302, 405),
        public=roles((LOGIN, 405), (404, 405), (404, 405), (404, 405), (302, 405)),
    )


def _fichier_avis():
    """A signed opinion (GET only): members of the contract (the draft's body has no
    file: 404)."""
    return _rapport_page(
        a=roles((LOGIN, LOGIN), (200, 405), (200, 405), (200, 405), (200, 405)),
        b=roles((LOGIN, 405), (404, 405), (404, 405), (404, 405), (200, 405)),
        on_the_draft_national=(404, 405),
    )


# URL name -> (kwargs of its URL, expectations). Expectations are {role: (GET, POST)}
# for the site's pages, {kind: {role: (GET, POST)}} for pages of a diagnostic or contract.
EXPECTED = {
    "home": (no_kwargs, everyone(200)),
    # The link of an invitation (to A's contract, for an address without an account):
    # anyone holding it reads it; a signed-in account accepts it (302 to the contract),
    # an anonymous visitor's empty account form is refused (400).
    # An invitation's link: its page for anyone holding it; accepting it is for the
    # account of the invited address only (none of the personas here: 403); an empty
    # account form re-displays with its errors (400).
    "invitation": (
        lambda built: {"token": built.token},
        signed_in((200, 403), anonymous=(200, 400)),
    ),
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
    # The second factor of a password login: without a login waiting for its code, back
    # to the login page; a signed-in user sets up an authenticator (an empty code is
    # refused on the page, 200) and manages it (a POST without action comes back, 302).
    "second_factor": (no_kwargs, everyone(LOGIN_PAGE, LOGIN_PAGE)),
    "second_factor_activation": (
        no_kwargs,
        signed_in((200, 200), anonymous=(LOGIN_PAGE, LOGIN_PAGE)),
    ),
    "second_factor_account": (
        no_kwargs,
        signed_in((200, Redirect("second_factor_account")), anonymous=(LOGIN, LOGIN)),
    ),
    # ProConnect: its pages do not exist while it is not configured (as here), except
    # the page of a failed login.
    "proconnect_login": (no_kwargs, everyone(404, 404)),
    "proconnect_callback": (no_kwargs, everyone(404, 404)),
    "proconnect_echec": (no_kwargs, everyone(200)),
    "password_change": (no_kwargs, signed_in((200, 200), anonymous=(LOGIN, LOGIN))),
    "password_change_done": (
        no_kwargs,
        signed_in((200, 405), anonymous=(LOGIN, LOGIN)),
    ),
    # Pages of a diagnostic.
    "diagnostics:diagnostic": (of_diagnostic(), READ),
    "diagnostics:pilier": (PILIER, READ),
    "diagnostics:sous_theme": (SOUS_THEME, READ),
    "diagnostics:source": (of_diagnostic(pk=lambda built: built.cellule.pk), READ),
    "fiche_quartier": (of_diagnostic(code=lambda built: "QN00304M"), READ),
    # Lists, exports and search: across the diagnostics the user may read (a public one
    # exists here, so anonymous visitors read too).
    "diagnostics:difficultes": (no_kwargs, everyone(200)),
    "diagnostics:difficultes_export": (lambda built: {"format": "csv"}, everyone(200)),
    "diagnostics:recherche": (no_kwargs, everyone(200)),
    "indicateurs:liste": (no_kwargs, everyone(200)),
    "indicateurs:export": (lambda built: {"format": "xlsx"}, everyone(200)),
    # Pages of the indicators of a diagnostic.
    "indicateurs:tableau_de_bord": (of_diagnostic(), READ),
    "indicateurs:tableau_de_bord_export": (of_diagnostic(format=lambda built: "csv"), READ),
    "indicateurs:detail": (indicateur_kwargs, READ),
    "indicateurs:historique": (indicateur_kwargs, edit(post=405, reads_only=True)),
    "indicateurs:modifier": (indicateur_kwargs, edit()),
    "indicateurs:saisie": (indicateur_kwargs, edit()),
    "indicateurs:reperes": (indicateur_kwargs, edit()),
    "indicateurs:mesure_modifier": (mesure_kwargs, edit()),
    "indicateurs:mesure_supprimer": (mesure_kwargs, edit()),
    # Imports and exports of the administrators. An empty upload form re-displays with
    # its errors (200); undoing the built import succeeds (302 to its page), except in a
    # frozen edition, which refuses it (nothing changes: see
    # test_a_frozen_edition_refuses_the_undo_of_its_import).
    "diagnostics:imports": (no_kwargs, administrateurs(200)),
    "diagnostics:import_nouveau": (no_kwargs, administrateurs(200, 200)),
    # The QPV référentiel: the national administrator only (a POST without a file shows the
    # form's error, 200); a contract's Administrateur is refused like everyone else.
    "diagnostics:referentiel_quartiers": (
        no_kwargs,
        {**administrateurs(403, 403), NATIONAL: (200, 200)},
    ),
    "diagnostics:import_apercu": (someone_elses_upload, administrateurs_of(404, 404)),
    "diagnostics:import_detail": (
        lambda built: {"pk": built.cellule.import_source_id},
        administrateurs_of(200, other_post=405),
    ),
    "diagnostics:import_annuler": (
        lambda built: {"pk": built.cellule.import_source_id},
        administrateurs_of(
            200,
            302,
            frozen=(200, 403),  # its page says why; the undo is refused as any change
        ),
    ),
    "diagnostics:export_source": (
        of_diagnostic(format=lambda built: "csv"),
        administrateurs_of(200, other_post=405),
    ),
    # Editing a diagnostic and its history (Équipe ville and Administrateur).
    "diagnostics:modifications": (of_diagnostic(), history()),
    "diagnostics:restaurer": (
        of_diagnostic(modele=lambda built: "difficulte", history_id=_creation_record),
        staff_only(),
    ),
    "diagnostics:pilier_modifier": (PILIER, staff_only()),
    "diagnostics:pilier_historique": (PILIER, history()),
    "diagnostics:theme_ajouter": (PILIER, staff_only()),
    "diagnostics:theme_modifier": (THEME, staff_only()),
    "diagnostics:theme_supprimer": (THEME, staff_only()),
    "diagnostics:theme_ordre": (THEME, staff_only(405, 400)),
    "diagnostics:theme_historique": (THEME, history()),
    "diagnostics:sous_theme_ajouter": (THEME, staff_only()),
    "diagnostics:sous_theme_modifier": (SOUS_THEME, staff_only()),
    "diagnostics:sous_theme_deplacer": (SOUS_THEME, staff_only()),
    "diagnostics:sous_theme_supprimer": (SOUS_THEME, staff_only()),
    "diagnostics:sous_theme_ordre": (SOUS_THEME, staff_only(405, 400)),
    "diagnostics:sous_theme_historique": (SOUS_THEME, history()),
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
    "diagnostics:element_historique": (ITEM, history()),
    # A contract and its editions: read like its editions (A's contract has three, of
    # which a Partenaire reads two; B's two; the public edition's contract one); managed
    # by administrators, whose role is checked first. With one edition there is nothing
    # to compare: the page says so, the download is a 404.
    "diagnostics:contrat": (of_contract, _read_contract()),
    "diagnostics:comparaison": (of_contract, _read_contract()),
    "diagnostics:comparaison_export": (of_contract, _read_contract(get_public=404)),
    "diagnostics:nouvelle_edition": (of_contract, _manage_contract(200, 400)),
    # The quartiers of a contract: a POST without the list's state token is stale (409).
    "diagnostics:quartiers_contrat": (of_contract, _manage_contract(200, 409)),
    # The members of a contract (its administrators). An empty invitation or organisation
    # form is refused (400); changing a role without one, removing a member (refused for
    # the last administrator) and cancelling an invitation go back to the members (302).
    "diagnostics:membres": (of_contract, _manage_contract(200, 400)),
    "diagnostics:membre_organisation": (of_contract, _manage_contract(405, 400)),
    "diagnostics:membre_role": (of_member, _manage_contract(405, 302)),
    "diagnostics:membre_retirer": (of_member, _manage_contract(200, 302)),
    "diagnostics:invitation_annuler": (
        lambda built: {"slug": built.diagnostic.contrat.slug, "pk": built.invitation},
        _manage_contract(405, 302),
    ),
    "diagnostics:etat_edition": (
        of_diagnostic(action=lambda built: "publier"),
        per_kind(_etat_edition),
    ),
    # The annual reports (see _rapport_page).
    "rapports:liste": (of_contract, _liste_rapports()),
    "rapports:annee": (
        lambda built: {"slug": built.diagnostic.contrat.slug, "annee": 2025},
        _derniere_version(),
    ),
    "rapports:rapport": (of_rapport(), _lecture_rapport()),
    "rapports:document": (
        of_rapport(format=lambda rapport: RAPPORT_DOCUMENT),
        _lecture_rapport(),
    ),
    "rapports:etat": (of_rapport(), _etat_rapport()),
    "rapports:section": (
        of_rapport(pk=lambda rapport: rapport.sections.get(cle="perspectives").pk),
        _ecriture_rapport(200, 400, partner_reads=False),
    ),
    "rapports:contributions": (
        of_rapport(),
        _ecriture_rapport(405, 302, partner_reads=False),
    ),
    "rapports:consultation": (
        of_rapport(),
        _ecriture_rapport(200, 400, partner_reads=True),
    ),
    "rapports:instance": (
        of_rapport(pk=lambda rapport: rapport.instances.get().pk),
        _ecriture_rapport(200, 400, partner_reads=True),
    ),
    "rapports:fichier": (
        of_rapport(pk=lambda rapport: rapport.instances.get().pk),
        _fichier_avis(),
    ),
}


def url_names(patterns=None, namespace=""):
    """Every URL name of the site ("namespace:name"); unnamed patterns are reported too."""
    names = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                # Django's admin, see test_only_the_national_administrator_enters_the_admin
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
        per_kind = expectations if set(expectations) <= set(KINDS) else {None: expectations}
        for kind, per_role in per_kind.items():
            for role, (get, post) in per_role.items():
                for method, expected in (("get", get), ("post", post)):
                    case_id = "-".join(filter(None, [name, kind, role, method]))
                    marks = ()
                    if hasattr(expected, "marks"):  # bug(...)
                        marks, (expected,) = expected.marks, expected.values
                    params.append(
                        pytest.param(name, kind, role, method, expected, id=case_id, marks=marks)
                    )
    return params


@dataclass
class Built(BuiltDiagnostic):
    uploader: object = None  # an administrator of every contract, for uploads
    membre: int = None  # the uploader's membership of the contract
    invitation: int = None  # a pending invitation to the contract
    token: str = ""  # the secret of its link


def build(diagnostic, uploader, invitation, token):
    """One of each thing the pages of `diagnostic` show."""
    membre = Membre.objects.get(contrat=diagnostic.contrat, compte=uploader)
    cellule = CelluleSourceFactory(import_source=ImportFactory(diagnostic=diagnostic))
    pilier = PilierFactory(diagnostic=diagnostic, numero=1)
    diagnostic.quartiers.add(QuartierFactory(code="QN00304M", nom="Rive Gauche"))
    sous_theme = SousThemeFactory(theme=ThemeFactory(pilier=pilier))
    DifficulteFactory(sous_theme=sous_theme, source=cellule)
    IndicateurFactory(sous_theme=sous_theme)
    return Built(diagnostic, pilier, sous_theme, cellule, uploader, membre.pk, invitation.pk, token)


def build_rapports(contrats):
    """The 2025 report of each contract (see _rapport_page), each with one body."""
    envoi = datetime.date(2026, 9, 1)
    a = RapportFactory(contrat=contrats["A"], statut=Rapport.Statut.CONSULTATION)
    b = RapportFactory(
        contrat=contrats["B"],
        statut=Rapport.Statut.PUBLIE,
        date_deliberation=datetime.date(2026, 10, 15),
        contenu_fige={},
        date_publication=timezone.now(),
    )
    RapportFactory(contrat=contrats["B public"])
    for rapport in (a, b):
        instance = InstanceFactory(
            rapport=rapport,
            date_envoi=envoi,
            avis="favorable",
            avis_date=envoi + datetime.timedelta(days=10),
            fichier_nom="avis-signe.pdf",
            fichier_type="application/pdf",
        )
        instance.fichier.save("avis.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"))
    InstanceFactory(rapport=Rapport.objects.get(contrat=contrats["B public"]), date_envoi=envoi)


@dataclass
class Site:
    built: dict  # kind -> Built
    sessions: dict  # role -> session key (None: anonymous)
    users: dict  # role -> user (None: anonymous)


def build_site():
    contrats = {
        name: ContratFactory(
            nom=f"Contrat de ville {name}", slug=f"matrice-{name.replace(' ', '-')}"
        )
        for name in ("A", "B", "B public")
    }
    uploader = UserFactory()
    invitations = {}
    for name, contrat in contrats.items():
        MembreFactory(contrat=contrat, compte=uploader, role=Role.ADMINISTRATEUR)
        invitation, link = membres.invite(
            contrat,
            email=f"invitee-{contrat.slug}@example.org",
            role=Role.PARTENAIRE,
            invite_par=uploader,
        )
        invitations[name] = (invitation, link.rstrip("/").rsplit("/", 1)[1])
    built = {}
    for kind, (contract, fields) in KINDS.items():
        diagnostic = DiagnosticFactory(
            contrat=contrats[contract],
            nom_edition=f"Édition {kind}",
            slug=f"matrice-{kind}",
            **fields,
        )
        built[kind] = build(diagnostic, uploader, *invitations[contract])
    build_rapports(contrats)
    users = {
        role: UserFactory(role=ROLES[role], contrat=contrats["A"])
        for role in (PARTENAIRE, EQUIPE, ADMIN)
    }
    users[NATIONAL] = UserFactory(is_superuser=True, is_staff=True)
    users[ANONYME] = None
    sessions = {ANONYME: None}
    for role, user in users.items():
        if user is not None:
            client = Client()
            client.force_login(user)
            sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return Site(built, sessions, users)


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, tmp_path_factory):
    """The six editions and the personas, built once for the module in a transaction
    rolled back after its last test (each test runs in a savepoint of its own). The
    reports' files are kept in a folder of the module's."""
    fichiers = override_settings(RAPPORTS_FICHIERS_ROOT=tmp_path_factory.mktemp("prive"))
    fichiers.enable()
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            with override_settings(
                PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]
            ):
                data = build_site()
        except BaseException as error:
            atomic.__exit__(type(error), error, error.__traceback__)
            fichiers.disable()
            raise
    yield data
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)
    fichiers.disable()


def sign_in(client, site, role):
    """The persona's session (made once for the module) on the test client."""
    if site.sessions[role] is not None:
        client.cookies[settings.SESSION_COOKIE_NAME] = site.sessions[role]


def test_every_url_of_the_site_is_in_the_access_table():
    assert sorted(url_names()) == sorted(EXPECTED)


def test_every_page_of_a_diagnostic_is_checked_on_every_kind_and_role():
    for name, (_, expectations) in EXPECTED.items():
        kinds = set(expectations) if set(expectations) <= set(KINDS) else None
        assert kinds in (None, set(KINDS), set(CONTRACT_KINDS)), name
        for per_role in expectations.values() if kinds else [expectations]:
            assert set(per_role) == set(ROLES), name


@pytest.mark.parametrize(("name", "kind", "role", "method", "expected"), cases())
def test_access(client, site, name, kind, role, method, expected):
    if name.startswith("proconnect_"):
        assert not is_configured(), "ProConnect is configured in the tests' settings"
    sign_in(client, site, role)
    kwargs_of, _ = EXPECTED[name]
    url = reverse(name, kwargs=kwargs_of(site.built[kind or A_PUBLIE]))

    response = getattr(client, method)(url)

    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={url}"
    elif isinstance(expected, Redirect):
        assert response.status_code == 302
        assert response["Location"] == reverse(expected.url_name)
    else:
        assert response.status_code == expected


@pytest.mark.parametrize(
    ("role", "enters"),
    [(ANONYME, False), (PARTENAIRE, False), (EQUIPE, False), (ADMIN, False), (NATIONAL, True)],
)
def test_only_the_national_administrator_enters_the_admin(client, site, role, enters):
    """The Django admin is the national administrator's: a contract's Administrateur is
    asked to sign in like anyone else."""
    sign_in(client, site, role)
    response = client.get("/admin/")
    if enters:
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert response["Location"] == "/admin/login/?next=/admin/"


def test_a_frozen_edition_refuses_the_undo_of_its_import(client, site):
    """A 403 that says the edition is frozen; the undo changes nothing."""
    sign_in(client, site, ADMIN)
    record = site.built[A_FIGE].cellule.import_source

    response = client.post(reverse("diagnostics:import_annuler", kwargs={"pk": record.pk}))

    assert response.status_code == 403
    assert "figée" in response.content.decode()
    record.refresh_from_db()
    assert record.annule_le is None
    assert site.built[A_FIGE].sous_theme.difficultes.exists()
