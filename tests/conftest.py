from pathlib import Path

import pytest
from django.test import override_settings

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


@pytest.fixture(scope="session", autouse=True)
def _private_files_in_a_temporary_folder(tmp_path_factory):
    """The reports' private files (signed opinions, kept documents) in a temporary folder
    of the session, never in the project's `prive/` (a test may set its own)."""
    with override_settings(RAPPORTS_FICHIERS_ROOT=tmp_path_factory.mktemp("prive")):
        yield


@pytest.fixture
def montlucon(_montlucon_rows):
    """Montluçon's seed table (fixtures/diagnostic-montlucon.tsv) imported into a diagnostic
    (the rows of one real import per session, written again: `_montlucon_rows`)."""
    return _montlucon_rows.write()


def import_montlucon():
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


@pytest.fixture(scope="session", autouse=True)
def _transactional_tests_emptied_by_delete():
    """A transactional test (the browser's, the migrations'...) ends by emptying every
    table (Django's flush). On PostgreSQL the flush is a TRUNCATE of the 50 tables (new
    files for each): 0.2 s to 2 s each time, as the machine is loaded. A DELETE of each
    table, in the same transaction, empties them as well (the foreign keys, all deferred,
    are checked at its commit) in 0.05 s to 0.2 s. SQLite already deletes."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade:
            return truncate(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return [
            f"{style.SQL_KEYWORD('DELETE')} {style.SQL_KEYWORD('FROM')} "
            f"{style.SQL_FIELD(self.quote_name(table))};"
            for table in tables
        ]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush)
        yield


class ImportedRows:
    """The rows an import wrote, table by table, to write them again as they were (same
    ids, same values) in a few bulk inserts."""

    def __init__(self, diagnostic_pk, rows):
        self.diagnostic_pk = diagnostic_pk
        self.rows = rows  # [(model, [{attname: value}])], in the order of the models

    @classmethod
    def of(cls, do_import):
        """Run `do_import` (returns a diagnostic) in a transaction rolled back; its rows."""
        from django.apps import apps
        from django.db import transaction

        models = [
            model
            for model in apps.get_models(include_auto_created=True)
            if model._meta.managed and not model._meta.proxy
        ]
        assert not any(model._meta.parents for model in models), "héritage multi-table"
        with transaction.atomic():
            before = {
                model: set(model._base_manager.values_list("pk", flat=True)) for model in models
            }
            diagnostic = do_import()
            rows = []
            for model in models:
                fields = [field.attname for field in model._meta.concrete_fields]
                pk = model._meta.pk.attname
                new = [
                    row
                    for row in model._base_manager.values(*fields)
                    if row[pk] not in before[model]
                ]
                if new:
                    rows.append((model, new))
            transaction.set_rollback(True)
        imported = cls(diagnostic.pk, rows)
        imported.keep_their_ids()
        return imported

    def keep_their_ids(self):
        """Later rows take other ids. PostgreSQL's sequences stay where the import took
        them, rolled back or not; SQLite's (sqlite_sequence) are set back past them."""
        from django.db import connection

        if connection.vendor != "sqlite":
            return
        with connection.cursor() as cursor:
            for model, rows in self.rows:
                pk = model._meta.pk
                if pk.get_internal_type() not in ("AutoField", "BigAutoField", "SmallAutoField"):
                    continue
                table, top = model._meta.db_table, max(row[pk.attname] for row in rows)
                cursor.execute(
                    "INSERT INTO sqlite_sequence (name, seq) SELECT %s, 0 WHERE NOT EXISTS"
                    " (SELECT 1 FROM sqlite_sequence WHERE name = %s)",
                    [table, table],
                )
                cursor.execute(
                    "UPDATE sqlite_sequence SET seq = MAX(seq, %s) WHERE name = %s", [top, table]
                )

    def write(self):
        """The rows written again (the foreign keys are checked at the end); the diagnostic."""
        from django.db import transaction

        from diagnostics.models import Diagnostic

        with transaction.atomic():
            for model, rows in self.rows:
                model._base_manager.bulk_create([model(**row) for row in rows])
        return Diagnostic.objects.get(pk=self.diagnostic_pk)


@pytest.fixture(scope="session")
def _montlucon_rows(django_db_setup, django_db_blocker):
    """Montluçon's seed imported once per session (per pytest-xdist worker), in a
    transaction rolled back: about 1 s of CPU, for the 300 tests that start from it. Each
    of them gets the same rows back (ids included) in 0.05 s. The import itself is tested
    by tests/diagnostics/imports/."""
    with django_db_blocker.unblock():
        return ImportedRows.of(import_montlucon)
