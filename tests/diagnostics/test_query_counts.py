"""A page's SQL query count does not grow with the data: the same exact count on a
diagnostic shaped like the seed and on one ten times larger (tests/scale.py)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from comptes.roles import Role
from diagnostics.models import Difficulte, Theme
from tests.factories import DiagnosticFactory, MembreFactory, PilierFactory, UserFactory
from tests.scale import build_diagnostic

# page -> (its URL for a built diagnostic, exact query count for a partner). Each count
# includes the session, the user and the user's roles (3 queries).
PAGES = {
    # Home: the contracts, their editions with their figures, the last changes, the last
    # imports, the piliers (diagnostics.accueil).
    "home": (lambda built: reverse("home"), 8),
    # Diagnostic: its quartiers, then their communes in one query.
    "diagnostic": (lambda built: built.diagnostic.get_absolute_url(), 8),
    # Pilier and sous-thème: one query for the latest values of the indicators.
    "pilier": (lambda built: reverse("diagnostics:pilier", args=[built.diagnostic.slug, 1]), 10),
    "sous_theme": (
        lambda built: reverse(
            "diagnostics:sous_theme", args=[built.diagnostic.slug, built.sous_theme.pk]
        ),
        8,
    ),
    "source": (
        lambda built: reverse("diagnostics:source", args=[built.diagnostic.slug, built.cellule.pk]),
        7,
    ),
}


def measure(client, built):
    """{page: number of queries} for each page of this diagnostic."""
    counts = {}
    for page, (url_of, _) in PAGES.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url_of(built))
        assert response.status_code == 200, page
        counts[page] = len(queries)
    return counts


def test_pages_run_as_many_queries_at_seed_size_as_ten_times_larger(client):
    expected = {page: count for page, (_, count) in PAGES.items()}
    assert max(expected.values()) <= 10

    small = build_diagnostic(1)
    partenaire = UserFactory(role=Role.PARTENAIRE, contrat=small.diagnostic.contrat)
    client.force_login(partenaire)
    at_seed_size = measure(client, small)
    large = build_diagnostic(10)
    # The home page lists the diagnostics the partner reads: ten times more of them, of
    # ten times more contracts.
    MembreFactory(contrat=large.diagnostic.contrat, compte=partenaire, role=Role.PARTENAIRE)
    for _ in range(9):
        other = DiagnosticFactory()
        PilierFactory.create_batch(3, diagnostic=other)
        MembreFactory(contrat=other.contrat, compte=partenaire, role=Role.PARTENAIRE)
    ten_times_larger = measure(client, large)

    def size(built):
        return (
            Theme.objects.filter(pilier__diagnostic=built.diagnostic).count(),
            Difficulte.objects.du_diagnostic(built.diagnostic).count(),
            built.sous_theme.difficultes.count(),
            built.cellule.difficultes.count(),
        )

    assert size(small) == (9, 39, 2, 2)
    assert size(large) == (90, 408, 20, 20)

    assert at_seed_size == expected
    assert ten_times_larger == expected
