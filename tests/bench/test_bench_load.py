"""The load test of bench/load.py, small: 8 clients for 4 seconds against live_server.

It checks the load test itself, not the speed (speed is measured in bench/, never here):
its clients get no error from the application, the Équipe ville clients of both cities
save edits at once and no acknowledged edit is lost in either city, each is refused (403)
the other city's edit form, every difficulté of a city was changed by its own account
only, a stale save is recognised as the application's conflict notice, and the checks do
fail when a saved marker is overwritten behind the application's back or when an account
changes a difficulté of the other city.

The server runs in a thread of the test process, so the data must be committed
(transactional_db); serialized rollback puts back what the migrations wrote. On
PostgreSQL it is pytest-django's live_server, a thread per request. With SQLite in
memory, Django hands the test's one connection to the server's threads, and concurrent
requests would run their transactions on it together: the same server then answers one
request at a time (the clients still interleave, so stale saves still happen).
"""

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.management import call_command
from django.core.servers.basehttp import WSGIServer
from django.db import connections
from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler

from bench import load
from comptes.roles import Role
from diagnostics.models import Diagnostic, Difficulte, Membre
from tests.factories import DiagnosticFactory, MembreFactory


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
    every table): the tests that follow expect the migrations' data to exist."""
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
    """The demonstration site (seed diagnostic, accounts) and the second city, as
    bench/run.py prepares it."""
    call_command("demo", force=True, stdout=io.StringIO())
    return load.prepare()


def test_a_short_run_has_no_error_and_loses_no_edit_in_either_city(site, plan):
    result = load.run_against(site, plan, load.after_run, clients=8, duration=4)

    assert result["erreurs"] == 0, result["premieres_erreurs"]
    assert result["modifications_perdues"] == 0, result["problemes_de_modification"]
    assert result["repartition"] == {
        "anonyme": 2,
        "partenaire": 2,
        "equipe": 4,
        "equipe_partageant_une_difficulte": 4,
    }
    by_case = {case["case"]: case for case in result["cases"]}
    for category in load.CATEGORIES:
        assert by_case[f"charge_{category}"]["requetes"] > 0, category
    assert result["diagnostic_rendu_public"] is True
    assert result["deuxieme_ville_creee"] is True
    # Each staff client was refused the other city's edit form.
    assert result["essais_hors_de_sa_ville"] == result["refus_hors_de_sa_ville"] == 4
    assert result["modifications_hors_de_sa_ville"] == 0

    montlucon, second = result["villes"]
    assert (montlucon["slug"], montlucon["compte"]) == (load.DIAGNOSTIC, "equipe")
    assert (second["slug"], second["compte"]) == (
        load.SECOND_CITY["diagnostic"]["slug"],
        load.SECOND_CITY_ACCOUNT,
    )
    for ville in (montlucon, second):
        assert ville["clients"] == ville["clients_partageant_une_difficulte"] == 2
        assert ville["enregistrements_acquittes"] >= 1, ville
        assert ville["modifications_perdues"] == 0, ville
        assert ville["modifications_par_un_autre_compte"] == 0, ville
        # The difficultés of a city were written during the run by its own account only.
        assert list(ville["auteurs_pendant_le_test"]) == [ville["compte"]]
        assert (
            ville["auteurs_pendant_le_test"][ville["compte"]]
            >= (ville["enregistrements_acquittes"])
        )
    table = load.format_table(result)
    assert "modifications perdues : 0" in table
    assert "Visiteurs anonymes" in table
    assert "4 refus (403) sur 4 essais" in table
    assert "Deuxième ville du banc (2 clients, compte « equipe2 »)" in table


def test_the_second_city_is_created_once_with_its_own_team_account(plan):
    second = Diagnostic.objects.get(slug=load.SECOND_CITY["diagnostic"]["slug"])
    montlucon = Diagnostic.objects.get(slug=load.DIAGNOSTIC)
    equipe2 = get_user_model().objects.get(username=load.SECOND_CITY_ACCOUNT)
    equipe = get_user_model().objects.get(username="equipe")

    assert second.contrat_id != montlucon.contrat_id
    assert second.contrat.slug == "banc-deuxieme-ville"
    assert (second.statut, second.est_public) == (Diagnostic.Statut.PUBLIE, True)
    assert Difficulte.objects.du_diagnostic(second).count() == (
        Difficulte.objects.du_diagnostic(montlucon).count()
    )
    assert equipe2.check_password(load.SECOND_CITY_PASSWORD)
    assert set(Membre.objects.filter(compte=equipe2).values_list("contrat", "role")) == {
        (second.contrat_id, Role.EQUIPE_VILLE.value)
    }
    assert not Membre.objects.filter(compte=equipe, contrat=second.contrat).exists()
    assert plan["second_city_created"] is True
    assert [ville["slug"] for ville in plan["villes"]] == [montlucon.slug, second.slug]
    assert set(plan["villes"][1]["difficultes"]).isdisjoint(plan["difficultes"])

    again = load.prepare()
    assert again["second_city_created"] is False
    assert again["villes"] == plan["villes"]
    assert Diagnostic.objects.filter(slug=second.slug).count() == 1


def test_the_run_check_detects_an_edit_by_the_other_citys_account(site, plan):
    raw = load.drive(site, plan, clients=4, duration=2)
    slugs = [ville["slug"] for ville in plan["villes"]]

    def check():
        after = load.after_run(load.edited_pks(raw), raw["run_id"], raw["started_at"], slugs)
        return load.check_run(raw, plan, after)

    clean = check()
    assert clean["lost"] == 0, clean["problems"]
    assert clean["outside"] == []
    assert [ville["outside"] for ville in clean["villes"]] == [0, 0]

    # Montluçon's account changes a difficulté of the second city behind the view's back.
    difficulte = Difficulte.objects.get(pk=plan["villes"][1]["difficultes"][-1])
    difficulte._history_user = get_user_model().objects.get(username="equipe")
    difficulte.libelle += " (changé par l'autre ville)"
    difficulte.save()

    checked = check()
    assert [ville["outside"] for ville in checked["villes"]] == [0, 1]
    assert len(checked["outside"]) == 1
    assert "« equipe »" in checked["outside"][0]["detail"]
    result = load.summarise(raw, checked, plan=plan)
    assert result["modifications_hors_de_sa_ville"] == 1
    assert result["erreurs"] >= 1
    assert result["villes"][1]["modifications_par_un_autre_compte"] == 1


def test_the_lost_edit_check_detects_an_overwritten_or_missing_marker(site, plan):
    raw = load.drive(site, plan, clients=4, duration=2)
    pks = load.edited_pks(raw)
    assert {edit.pk for c in raw["clients"] for edit in c.edits} & set(
        plan["villes"][1]["difficultes"]
    )
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


def test_the_plan_refuses_a_team_account_that_edits_both_cities():
    call_command("demo", force=True, stdout=io.StringIO())
    second = Diagnostic.objects.get(pk=load.prepare_second_city()[0].pk)
    equipe = get_user_model().objects.get(username="equipe")
    MembreFactory(contrat=second.contrat, compte=equipe, role=Role.EQUIPE_VILLE)

    with pytest.raises(LookupError, match="« equipe » manque ou n'a pas son"):
        load.prepare()


@pytest.mark.parametrize(
    ("username", "role"),
    [
        ("partenaire", None),  # no role on the seed's contract (one on another only)
        ("equipe", Role.PARTENAIRE),  # a role that does not edit
    ],
)
def test_the_plan_needs_the_demonstration_roles_on_the_seeds_contract(username, role):
    call_command("demo", force=True, stdout=io.StringIO())
    contrat = Diagnostic.objects.get(slug=load.DIAGNOSTIC).contrat
    account = get_user_model().objects.get(username=username)
    assert load.prepare()["accounts"][username][0] == username  # as the demo leaves them
    Membre.objects.filter(contrat=contrat, compte=account).delete()
    if role is None:
        MembreFactory(contrat=DiagnosticFactory().contrat, compte=account, role=Role.PARTENAIRE)
    else:
        MembreFactory(contrat=contrat, compte=account, role=role)

    with pytest.raises(LookupError, match=f"« {username} » manque ou n'a pas son"):
        load.prepare()


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
