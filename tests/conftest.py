from pathlib import Path

import pytest

from diagnostics.imports import import_source_table
from tests.factories import DiagnosticFactory

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "diagnostic-montlucon.tsv"


@pytest.fixture(autouse=True)
def _give_every_test_the_database(db):
    """Every test runs against the real database (SQLite or PostgreSQL per DATABASE_URL)."""


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create many accounts: a real password hash costs a quarter of a second each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def montlucon():
    """Montluçon's seed table (fixtures/diagnostic-montlucon.tsv) imported into a diagnostic."""
    diagnostic = DiagnosticFactory(
        titre="Contrat de ville de Montluçon — diagnostic", slug="montlucon"
    )
    report = import_source_table(diagnostic, SEED.name, SEED.read_bytes())
    assert report.ok, report.as_lines()
    return diagnostic
