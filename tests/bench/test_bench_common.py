"""bench/common.py: under the tests, a new SQLite database is a copy of one migrated once
(tests/bench/conftest.py); anything else is a real `manage.py migrate`."""

from bench import common


def test_a_full_migrate_of_a_new_sqlite_database_copies_the_migrated_one(tmp_path, monkeypatch):
    template = tmp_path / "migree.sqlite3"
    template.write_bytes(b"SQLite format 3\x00 migree")
    monkeypatch.setenv(common.MIGRATED_SQLITE, str(template))
    url = f"sqlite:///{tmp_path / 'banc.sqlite3'}"

    done = common.manage(url, "migrate", "--no-input", "-v", "0")

    assert done.returncode == 0
    assert (tmp_path / "banc.sqlite3").read_bytes() == template.read_bytes()


def test_only_a_full_migrate_of_a_new_sqlite_database_is_copied(tmp_path, monkeypatch):
    template = tmp_path / "migree.sqlite3"
    template.write_bytes(b"SQLite format 3\x00 migree")
    used = tmp_path / "utilisee.sqlite3"
    used.write_bytes(b"SQLite format 3\x00 autre")
    new = f"sqlite:///{tmp_path / 'neuve.sqlite3'}"
    monkeypatch.setenv(common.MIGRATED_SQLITE, str(template))

    assert not common._copied_migrated_sqlite(f"sqlite:///{used}", ("migrate", "--no-input"))
    assert not common._copied_migrated_sqlite(new, ("migrate", "diagnostics", "0009"))
    assert not common._copied_migrated_sqlite(new, ("migrate", "-v", "0", "diagnostics"))
    assert not common._copied_migrated_sqlite(new, ("demo",))
    assert not common._copied_migrated_sqlite("postgres://h/banc", ("migrate",))
    monkeypatch.delenv(common.MIGRATED_SQLITE)
    assert not common._copied_migrated_sqlite(new, ("migrate", "--no-input"))
    assert not (tmp_path / "neuve.sqlite3").exists()
    assert used.read_bytes() == b"SQLite format 3\x00 autre"
