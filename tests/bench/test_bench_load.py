"""The load test of bench/load.py, small: 4 clients for 3 seconds against live_server.

It checks the load test itself, not the speed (speed is measured in bench/, never here):
its clients get no error from the application, no acknowledged edit is lost, a stale save
is recognised as the application's conflict notice, and the lost-edit check does fail when
a saved marker is overwritten behind the application's back.

The server runs in a thread of the test process, so the data must be committed
(transactional_db); serialized rollback puts back the roles of the migrations. On
PostgreSQL it is pytest-django's live_server, a thread per request. With SQLite in
memory, Django hands the test's one connection to the server's threads, and concurrent
requests would run their transactions on it together: the same server then answers one
request at a time (the clients still interleave, so stale saves still happen).
"""

import io

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management import call_command
from django.core.servers.basehttp import WSGIServer
from django.db import connections
from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler

from bench import load
from diagnostics.models import Difficulte


class OneRequestAtATime(LiveServerThread):
    def _create_server(self, connections_override=None):
        return WSGIServer(
            (self.host, self.port), QuietWSGIRequestHandler, allow_reuse_address=False
        )


@pytest.fixture(autouse=True)
def _give_every_test_the_database(transactional_db, django_db_serialized_rollback):
    """Overrides tests/conftest.py: the live server's threads need committed data."""


@pytest.fixture(scope="module", autouse=True)
def _leave_the_database_as_found(django_db_blocker):
    """After the last test, put the migrations' data back (a transactional test empties
    every table): the tests that follow expect the roles to exist."""
    yield
    with django_db_blocker.unblock():
        for connection in connections.all():
            if hasattr(connection, "_test_serialized_contents"):
                connection.creation.deserialize_db_from_string(connection._test_serialized_contents)


@pytest.fixture
def site(request):
    """The base URL of a live server of the test database (see the module)."""
    shared = connections["default"]
    if shared.vendor != "sqlite" or not shared.is_in_memory_db():
        yield request.getfixturevalue("live_server").url
        return
    thread = OneRequestAtATime(
        "localhost", StaticFilesHandler, connections_override={"default": shared}
    )
    thread.daemon = True
    shared.inc_thread_sharing()
    try:
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
        yield f"http://localhost:{thread.port}"
    finally:
        thread.terminate()
        shared.dec_thread_sharing()


@pytest.fixture
def plan():
    """The demonstration site (seed diagnostic, accounts), as bench/run.py prepares it."""
    call_command("demo", force=True, stdout=io.StringIO())
    return load.prepare()


def test_a_short_run_has_no_error_and_loses_no_edit(site, plan):
    result = load.run_against(site, plan, load.edit_state, clients=4, duration=3)

    assert result["erreurs"] == 0, result["premieres_erreurs"]
    assert result["modifications_perdues"] == 0, result["problemes_de_modification"]
    assert result["enregistrements_acquittes"] >= 2
    assert result["repartition"] == {
        "anonyme": 1,
        "partenaire": 1,
        "equipe": 2,
        "equipe_partageant_une_difficulte": 2,
    }
    by_case = {case["case"]: case for case in result["cases"]}
    for category in load.CATEGORIES:
        assert by_case[f"charge_{category}"]["requetes"] > 0, category
    assert result["diagnostic_rendu_public"] is True
    table = load.format_table(result)
    assert "modifications perdues : 0" in table
    assert "Visiteurs anonymes" in table


def test_the_lost_edit_check_detects_an_overwritten_or_missing_marker(site, plan):
    raw = load.drive(site, plan, clients=4, duration=2)
    pks = load.edited_pks(raw)
    assert load.check_edits(raw, load.edit_state(pks, raw["run_id"])) == {
        "lost": 0,
        "problems": [],
    }

    acknowledged = [
        edit for client in raw["clients"] for edit in client.edits if edit.outcome == "acquitte"
    ]
    assert acknowledged
    pk = acknowledged[0].pk
    last = max((edit for edit in acknowledged if edit.pk == pk), key=lambda edit: edit.version)
    # Someone overwrites the libellé behind the application's back (no version, no history).
    Difficulte.objects.filter(pk=pk).update(libelle="Écrasé hors de l'application")
    check = load.check_edits(raw, load.edit_state(pks, raw["run_id"]))
    assert check["lost"] == 1
    assert last.marker in check["problems"][0]

    # An acknowledged save missing from the history is lost too.
    Difficulte.history.filter(id=pk, libelle__contains=last.marker).delete()
    check = load.check_edits(raw, load.edit_state(pks, raw["run_id"]))
    assert check["lost"] == 2
    assert any("absent de l'historique" in problem for problem in check["problems"])


def test_a_stale_save_is_answered_with_the_conflict_notice(site, plan):
    budget = load.Budget(100)
    first, second = (load.Browser(site, budget) for _ in range(2))
    for browser in (first, second):
        assert load.log_in(browser, *plan["accounts"]["equipe"])
    pk = plan["difficultes"][0]
    path = f"/diagnostics/{plan['slug']}/difficultes/{pk}/modifier/"
    forms = [
        load.form_with(b.get(path, "equipe_lecture").text(), "libelle") for b in (first, second)
    ]

    saved = first.post(path, dict(forms[0], libelle="Premier enregistrement"), "x", expect=(302,))
    stale = second.post(path, dict(forms[1], libelle="Second, périmé"), "x", expect=(200,))

    assert saved.status == 302
    assert load.CONFLICT_NOTICE in stale.text()
    assert first.errors == second.errors == []
    assert Difficulte.objects.get(pk=pk).libelle == "Premier enregistrement"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org",
        "https://127.0.0.1:8000",
        "http://10.0.0.1:8000",
        "http://127.0.0.1.example.org:8000",
        "http://127.0.0.1:8000/chemin/",
    ],
)
def test_only_loopback_servers_are_loaded(url):
    with pytest.raises(ValueError):
        load.check_base_url(url)
    with pytest.raises(ValueError):
        load.Browser(url, load.Budget(1))
