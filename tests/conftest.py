from pathlib import Path

import pytest

from comptes.roles import Role
from diagnostics.imports import import_source_table
from tests.factories import DiagnosticFactory, UserFactory

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEED = FIXTURES / "diagnostic-montlucon.tsv"


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


# Personas shared by the tests ------------------------------------------------------------
# Their roles are held on `contrat`: Montluçon's by default; a module whose tests act on
# another diagnostic overrides the `contrat` fixture.


@pytest.fixture
def contrat(montlucon):
    """The contract on which the personas hold their roles."""
    return montlucon.contrat


@pytest.fixture
def marie(contrat):
    """Marie Dupont, of the contract's Équipe ville (not signed in)."""
    return UserFactory(
        username="marie",
        first_name="Marie",
        last_name="Dupont",
        role=Role.EQUIPE_VILLE,
        contrat=contrat,
    )


@pytest.fixture
def paul(contrat):
    """Paul Martin, the contract's Administrateur (not signed in)."""
    return UserFactory(
        username="paul",
        first_name="Paul",
        last_name="Martin",
        role=Role.ADMINISTRATEUR,
        contrat=contrat,
    )


@pytest.fixture
def equipe(client, marie):
    """The test client, signed in as Marie (Équipe ville)."""
    client.force_login(marie)
    return client


@pytest.fixture
def admin(client, contrat):
    """Sophie Durand, the contract's Administrateur, signed in on the test client."""
    user = UserFactory(
        username="sophie.admin",
        first_name="Sophie",
        last_name="Durand",
        role=Role.ADMINISTRATEUR,
        contrat=contrat,
    )
    client.force_login(user)
    return user


@pytest.fixture
def partenaire(contrat):
    """A Partenaire of the contract (not signed in)."""
    return UserFactory(role=Role.PARTENAIRE, contrat=contrat)


@pytest.fixture(scope="session")
def libreoffice(tmp_path_factory):
    """LibreOffice headless, converting files (tests/libreoffice.py): skipped without
    soffice, failed under CI=true."""
    from tests.libreoffice import LibreOffice, require_soffice

    require_soffice()
    return LibreOffice(tmp_path_factory.mktemp("libreoffice"))
