"""No lost update: real concurrent saves (and starts of an edition), each thread with its own
database connection.

The version check is part of the UPDATE (`… WHERE id = … AND version = …`): of several
saves made on the same version at the same moment, exactly one wins and the others are
refused (StaleEdit); retried on the current version, every change lands and none is lost.

On PostgreSQL the row lock taken by the first UPDATE makes the others wait, then find
the version changed. SQLite serialises writers: the test database is in memory with a
shared cache, where a busy table answers "database table is locked" at once instead of
waiting, so each attempt is retried for a while (`retry_while_locked`), as a real
server's busy timeout would.
"""

import datetime
import random
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError, connections

from diagnostics import editing
from diagnostics.editions.copy import ONE_DRAFT, start_edition
from diagnostics.models import Diagnostic, Difficulte
from tests.factories import DiagnosticFactory, DifficulteFactory, SousThemeFactory, UserFactory

THREADS = 8
LOCK_TIMEOUT = 30  # seconds


@pytest.fixture(autouse=True)
def _give_every_test_the_database(transactional_db, django_db_serialized_rollback):
    """Overrides tests/conftest.py: the threads use their own connections, so the data must
    be committed (transactional_db); serialized rollback puts back the roles and the
    other data of the migrations before each test."""


@pytest.fixture(scope="module", autouse=True)
def _leave_the_database_as_found(django_db_blocker):
    """After the last test, put the migrations' data back (a transactional test empties
    every table): the tests that follow expect the roles to exist."""
    yield
    with django_db_blocker.unblock():
        for connection in connections.all():
            if hasattr(connection, "_test_serialized_contents"):
                connection.creation.deserialize_db_from_string(connection._test_serialized_contents)


def retry_while_locked(operation):
    deadline = time.monotonic() + LOCK_TIMEOUT
    while True:
        try:
            return operation()
        except OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(0.001, 0.02))


def run_at_once(operations):
    """Run each operation in its own thread, all released at the same moment; returns
    what each returned or raised, in order."""
    barrier = threading.Barrier(len(operations))
    outcomes = [None] * len(operations)

    def worker(index, operation):
        try:
            barrier.wait()
            outcomes[index] = operation()
        except Exception as error:  # the outcome is what the test checks
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=worker, args=(index, operation))
        for index, operation in enumerate(operations)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=LOCK_TIMEOUT * 2)
        assert not thread.is_alive(), "Un fil d'exécution ne s'est pas terminé."
    return outcomes


@pytest.fixture
def difficulte():
    return DifficulteFactory(libelle="Isolement des familles")


@pytest.fixture
def users():
    return [UserFactory(username=f"agent{index}") for index in range(THREADS)]


def test_of_concurrent_saves_on_the_same_version_exactly_one_wins(difficulte, users):
    def save(index):
        def operation():
            obj = Difficulte(pk=difficulte.pk, libelle=f"Version écrite par l'agent {index}")
            return editing.save_versioned(obj, 1, users[index], fields=["libelle"])

        return lambda: retry_while_locked(operation)

    outcomes = run_at_once([save(index) for index in range(THREADS)])

    winners = [o for o in outcomes if isinstance(o, Difficulte)]
    refused = [o for o in outcomes if isinstance(o, editing.StaleEdit)]
    assert len(winners) == 1, outcomes
    assert len(refused) == THREADS - 1, outcomes
    difficulte.refresh_from_db()
    assert difficulte.libelle == winners[0].libelle
    assert difficulte.version == 2
    # Each refused save was shown the winner's text, and wrote nothing.
    assert {stale.current.libelle for stale in refused} == {winners[0].libelle}
    assert difficulte.history.filter(history_type="~").count() == 1


def test_retried_on_the_current_version_every_concurrent_change_lands(difficulte, users):
    def add_line(index):
        def attempt():
            current = Difficulte.objects.get(pk=difficulte.pk)
            time.sleep(random.uniform(0.01, 0.05))  # the time a person takes to type
            current.libelle += f"\nComplément de l'agent {index}"
            return editing.save_versioned(
                current, current.version, users[index], fields=["libelle"]
            )

        def operation():
            refusals = 0
            while True:
                try:
                    retry_while_locked(attempt)
                    return refusals
                except editing.StaleEdit:
                    refusals += 1

        return operation

    outcomes = run_at_once([add_line(index) for index in range(THREADS)])

    assert all(isinstance(o, int) for o in outcomes), outcomes
    difficulte.refresh_from_db()
    lines = difficulte.libelle.splitlines()
    assert sorted(lines[1:]) == sorted(f"Complément de l'agent {i}" for i in range(THREADS))
    assert difficulte.version == 1 + THREADS
    assert difficulte.history.filter(history_type="~").count() == THREADS
    # The race was real: some saves had to be retried.
    assert sum(outcomes) >= 1


def test_concurrent_reordering_and_editing_lose_nothing(users):
    sous_theme = SousThemeFactory()
    items = [
        DifficulteFactory(sous_theme=sous_theme, libelle=f"Difficulté {n}", position=n)
        for n in range(1, THREADS + 1)
    ]
    edited = items[0]

    def move(index):
        def operation():
            item = Difficulte.objects.get(pk=items[index].pk)
            mover = editing.move_up if index % 2 else editing.move_down
            return mover(item, users[index])

        return lambda: retry_while_locked(operation)

    def edit():
        obj = Difficulte(pk=edited.pk, libelle="Difficulté 1, précisée")

        def attempt():
            version = Difficulte.objects.get(pk=edited.pk).version
            return editing.save_versioned(obj, version, users[0], fields=["libelle"])

        while True:
            try:
                return retry_while_locked(attempt)
            except editing.StaleEdit:
                continue

    outcomes = run_at_once([move(index) for index in range(1, THREADS)] + [edit])

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    positions = sorted(sous_theme.difficultes.values_list("position", flat=True))
    assert positions == list(range(1, THREADS + 1))
    assert Difficulte.objects.get(pk=edited.pk).libelle == "Difficulté 1, précisée"


def retry_while_stale(attempt):
    """Retry an operation made on the version just read, until it lands."""
    while True:
        try:
            return retry_while_locked(attempt)
        except editing.StaleEdit:
            continue


def test_splitting_merging_and_reordering_one_list_at_once_neither_deadlocks_nor_loses(users):
    sous_theme = SousThemeFactory()
    items = {
        n: DifficulteFactory(sous_theme=sous_theme, libelle=f"Difficulté {n}", position=n)
        for n in range(1, 9)
    }

    def split():
        def attempt():
            item = Difficulte.objects.get(pk=items[1].pk)
            return editing.split_element(item, ["Partie A", "Partie B"], users[0], item.version)

        return retry_while_stale(attempt)

    def merge():
        def attempt():
            kept = Difficulte.objects.get(pk=items[8].pk)
            other = Difficulte.objects.get(pk=items[7].pk)
            return editing.merge_elements(
                kept, kept.version, {other.pk: other.version}, "Fusionnée", users[1]
            )

        return retry_while_stale(attempt)

    def move(n, index):
        mover = editing.move_up if n % 2 else editing.move_down

        def attempt():
            return mover(Difficulte.objects.get(pk=items[n].pk), users[index])

        def operation():
            for _ in range(3):
                retry_while_locked(attempt)

        return operation

    outcomes = run_at_once([split, merge] + [move(n, n) for n in range(2, 7)])

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    libelles = set(sous_theme.difficultes.values_list("libelle", flat=True))
    assert libelles == {
        "Partie A",
        "Partie B",
        *(f"Difficulté {n}" for n in range(2, 7)),
        "Fusionnée",
    }
    # Every change of order was made under the lock of the list: no two items share a
    # place (the merge leaves a gap where the merged item was, which is harmless).
    positions = list(sous_theme.difficultes.values_list("position", flat=True))
    assert len(set(positions)) == len(positions) == 8


def test_of_administrators_starting_an_edition_at_once_one_wins(users):
    edition = DiagnosticFactory(nom_edition="Diagnostic initial — 2024")
    DifficulteFactory(sous_theme=SousThemeFactory(theme__pilier__diagnostic=edition))

    def start(index):
        return lambda: retry_while_locked(
            lambda: start_edition(
                edition.contrat,
                nom=f"Révision de l'agent {index}",
                date=datetime.date(2027, 3, 1),
                user=users[index],
            )
        )

    outcomes = run_at_once([start(index) for index in range(4)])

    started = [o for o in outcomes if isinstance(o, Diagnostic)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(started) == 1, outcomes
    assert len(refused) == 3, outcomes
    assert all(error.messages == [ONE_DRAFT] for error in refused)
    assert edition.contrat.editions.count() == 2
    assert Difficulte.objects.filter(diagnostic=started[0]).count() == 1
