"""The connection to the database lost during an import: the commands print a French
message saying nothing was written (exit code non-zero, no traceback), the site a French
503 page saying the same; the import runs in one transaction, so it can simply be retried.

The loss is real: a second connection ends the import's session on the server
(pg_terminate_backend) once the import has written a few rows (PostgreSQL only); the
commands' message is also checked against a server that cannot be reached at all."""

import io
import os
import subprocess
import sys
from contextlib import contextmanager

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from diagnostics.models import Diagnostic, Import, ImportEnAttente
from tests.conftest import SEED
from tests.diagnostics.imports.test_import_screens import token_of, upload
from tests.diagnostics.test_conflicts import (  # noqa: F401 (fixtures)
    _give_every_test_the_database,
    _leave_the_database_as_found,
)
from tests.factories import ContratFactory

ROOT = settings.BASE_DIR
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pg_terminate_backend: PostgreSQL"
)


@contextmanager
def connection_lost_after(inserts):
    """The server ends this connection's session just before its `inserts`-th INSERT."""
    seen = 0

    def wrapper(execute, sql, params, many, context):
        nonlocal seen
        if sql.lstrip().upper().startswith("INSERT"):
            seen += 1
            if seen == inserts:
                pid = context["connection"].connection.info.backend_pid
                params_ = connection.settings_dict
                with psycopg.connect(
                    dbname=params_["NAME"],
                    user=params_["USER"],
                    password=params_["PASSWORD"] or None,
                    host=params_["HOST"] or None,
                    port=params_["PORT"] or None,
                    autocommit=True,
                ) as other:
                    other.execute("SELECT pg_terminate_backend(%s)", [pid])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield
    assert seen >= inserts, "l'import n'a pas écrit assez de lignes pour perdre la connexion"


@pytest.fixture
def contrat():
    """The administrator's contract, without any diagnostic yet: the import creates one."""
    return ContratFactory(slug="montlucon-communaute")


def nothing_written():
    return not Diagnostic.objects.exists() and not Import.objects.exists()


IMPORT_DIAGNOSTIC = ["import_diagnostic", str(SEED), "--diagnostic", "montlucon"]
CREATION = ["--territoire", "Montluçon Communauté"]


@on_postgresql
def test_the_command_says_in_french_that_nothing_was_written_and_can_be_rerun():
    with pytest.raises(CommandError) as raised, connection_lost_after(inserts=5):
        call_command(*IMPORT_DIAGNOSTIC, *CREATION)

    message = str(raised.value)
    assert message.startswith("La connexion à la base de données a été perdue")
    assert "l'import n'a rien enregistré" in message
    assert nothing_written()

    call_command(*IMPORT_DIAGNOSTIC, *CREATION, stdout=io.StringIO())
    assert Diagnostic.objects.get().slug == "montlucon"
    assert Import.objects.count() == 1


@pytest.mark.parametrize(
    "command",
    [IMPORT_DIAGNOSTIC + CREATION, ["import_mesures", str(SEED), "--diagnostic", "montlucon"]],
    ids=["import_diagnostic", "import_mesures"],
)
def test_the_commands_print_no_traceback_when_the_database_cannot_be_reached(command):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["DATABASE_URL"] = "postgres://postgres@127.0.0.1:1/contrat_ville"  # nothing listens

    result = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "l'import n'a rien enregistré" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) <= 3, result.stderr


@on_postgresql
def test_the_site_says_in_french_that_nothing_was_written_and_the_upload_waits(client, admin):
    token = token_of(upload(client, SEED.name, SEED.read_bytes()))
    url = reverse("diagnostics:import_apercu", args=[token])

    client.raise_request_exception = False
    with connection_lost_after(inserts=5):
        response = client.post(url, {"action": "confirmer"})

    assert response.status_code == 503
    page = response.content.decode()
    assert "Base de données injoignable" in page
    assert "rien n’a été enregistré" in page
    assert "confirmer son import à nouveau" in page
    assert f'href="{url}"' in page
    assert nothing_written()
    assert ImportEnAttente.objects.get(token=token).confirme_le is None

    # Once the database answers again, the same upload is confirmed.
    response = client.post(url, {"action": "confirmer"})
    assert response.status_code == 302
    assert Diagnostic.objects.get().slug == "montlucon-2024"
    assert Import.objects.count() == 1
