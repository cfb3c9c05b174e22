"""The benchmarks' parts, run at a tiny size, each migrate a throwaway SQLite database
(bench/common.py): 15 s of CPU each time. The `migrated_sqlite` fixture migrates one once per
test session, shared by pytest-xdist's workers, and the parts' databases are copies of it."""

import fcntl
import os

import pytest

from bench import common


@pytest.fixture(scope="session")
def _one_migrated_sqlite(tmp_path_factory):
    """A SQLite file migrated by `manage.py migrate` (the real command, once per session)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's folder, shared by the workers
    path = root / "banc-migree.sqlite3"
    with open(root / "banc-migree.verrou", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the other workers wait for the first one
        if not path.exists():
            partial = root / f"banc-migree-{os.getpid()}.sqlite3"
            common.manage(f"sqlite:///{partial}", "migrate", "--no-input", "-v", "0")
            partial.rename(path)
    return path


@pytest.fixture
def migrated_sqlite(_one_migrated_sqlite, monkeypatch):
    """The parts' throwaway SQLite databases start as copies of a migrated one."""
    monkeypatch.setenv(common.MIGRATED_SQLITE, str(_one_migrated_sqlite))
    return _one_migrated_sqlite
