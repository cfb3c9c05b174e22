"""The lists, their filters and the search run a fixed number of SQL queries: the same
exact count on a diagnostic shaped like the seed and on one ten times larger."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comptes.roles import Role
from diagnostics.models import Difficulte
from indicateurs.models import Indicateur
from tests.factories import MembreFactory, ThemeFactory, UserFactory
from tests.scale import build_diagnostic


def filtered(built):
    """Every filter of the list at once, matching some items of the built diagnostic."""
    return {
        "diagnostic": built.diagnostic.slug,
        "pilier": built.pilier.pk,
        "theme": built.sous_theme.theme_id,
        "sous_theme": built.sous_theme.pk,
        "quartier": built.sous_theme.difficultes.first().quartiers.first().code,
        "q": "difficulte",
        "avec_indicateur": "oui",
    }


# page -> (its URL and parameters for a built diagnostic, exact query count for a
# partner). Each count includes the session, the user and the user's roles (3 queries).
# Lists: the diagnostic menu, the count, the page of items, their quartiers; with a
# diagnostic chosen, its menus too: thèmes (their piliers come with them), sous-thèmes
# and quartiers.
# Search: the diagnostic menu, the page of hits with their count (one UNION).
PAGES = {
    "difficultes": (lambda built: (reverse("diagnostics:difficultes"), {}), 7),
    "difficultes filtrées": (
        lambda built: (reverse("diagnostics:difficultes"), filtered(built)),
        10,
    ),
    "difficultes page 2": (lambda built: (reverse("diagnostics:difficultes"), {"page": 2}), 7),
    "indicateurs": (lambda built: (reverse("indicateurs:liste"), {"avec_difficulte": "oui"}), 7),
    "recherche": (lambda built: (reverse("diagnostics:recherche"), {"q": "difficultés"}), 5),
    "recherche dans un diagnostic": (
        lambda built: (
            reverse("diagnostics:recherche"),
            {"q": "participants action", "diagnostic": built.diagnostic.slug},
        ),
        5,
    ),
}


def measure(client, built):
    """{page: number of queries} for each page, and the number of items each one shows."""
    counts, shown = {}, {}
    for page, (url_of, _) in PAGES.items():
        url, params = url_of(built)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, params)
        assert response.status_code == 200, page
        counts[page] = len(queries)
        shown[page] = response.context["page_obj"].paginator.count
    return counts, shown


def test_lists_and_search_run_as_many_queries_at_seed_size_as_ten_times_larger(client):
    expected = {page: count for page, (_, count) in PAGES.items()}
    assert max(expected.values()) <= 10

    # A second diagnostic, empty but for a thème, at both sizes: the list of every
    # diagnostic then offers no pilier, thème, sous-thème or quartier menu until one
    # diagnostic is chosen (tests/diagnostics/test_filters.py), with as many queries at both sizes.
    # The partner reads every diagnostic here: it holds its role on each one's contract.
    partenaire = UserFactory(role=Role.PARTENAIRE, contrat=ThemeFactory().diagnostic.contrat)
    client.force_login(partenaire)
    small = build_diagnostic(1)
    MembreFactory(contrat=small.diagnostic.contrat, compte=partenaire, role=Role.PARTENAIRE)
    at_seed_size, shown_small = measure(client, small)
    large = build_diagnostic(10)
    MembreFactory(contrat=large.diagnostic.contrat, compte=partenaire, role=Role.PARTENAIRE)
    ten_times_larger, shown_large = measure(client, large)

    assert Difficulte.objects.du_diagnostic(small.diagnostic).count() == 39
    assert Difficulte.objects.du_diagnostic(large.diagnostic).count() == 408
    assert Indicateur.objects.du_diagnostic(large.diagnostic).count() > 10 * 9
    # The pages show many more rows at the larger size (lists of both diagnostics).
    assert shown_large["difficultes"] == 39 + 408
    assert shown_large["recherche"] == 39 + 408
    assert all(shown_small[page] > 0 and shown_large[page] > 0 for page in PAGES)

    assert at_seed_size == expected
    assert ten_times_larger == expected
