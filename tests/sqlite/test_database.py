"""`open_database`: the file's identity, forward-only migrations, pragmas, read-only opens."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gateway.sqlite import (
    ForeignFileError,
    Migration,
    MissingFileError,
    NewerFileError,
    OlderFileError,
    Pragmas,
    Schema,
    open_database,
)
from tests.sqlite.files import header

APP_ID = 0x6C767474  # a test kind of file
V1 = ("CREATE TABLE items (name TEXT PRIMARY KEY)",)
V2 = ("ALTER TABLE items ADD COLUMN size INTEGER NOT NULL DEFAULT 0",)


def schema(
    *migrations: Migration,
    incremental_vacuum: bool = False,
    unmarked_tables: frozenset[str] = frozenset(),
) -> Schema:
    return Schema("test store", APP_ID, migrations, incremental_vacuum, unmarked_tables)


def test_a_new_file_gets_its_kind_its_version_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    db = open_database(path, schema(V1, V2), Pragmas(synchronous="NORMAL", busy_timeout_ms=1234))
    try:
        pragmas = {
            name: db.conn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "busy_timeout", "auto_vacuum")
        }
        db.conn.execute("INSERT INTO items (name, size) VALUES ('a', 1)")
    finally:
        db.close()
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,
        "busy_timeout": 1234,
        "auto_vacuum": 0,
    }
    assert header(path) == (APP_ID, 2)


def test_incremental_vacuum_is_chosen_for_a_new_file(tmp_path: Path) -> None:
    db = open_database(tmp_path / "v.db", schema(V1, incremental_vacuum=True))
    try:
        assert db.pragma_int("auto_vacuum") == 2
    finally:
        db.close()


def test_a_file_from_a_newer_version_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    open_database(path, schema(V1, V2)).close()
    with pytest.raises(
        NewerFileError,
        match=rf"{path}: written by a newer lvgw \(test store schema 2; this one knows up to 1\)",
    ):
        open_database(path, schema(V1))
    assert header(path) == (APP_ID, 2)  # untouched


def test_each_migration_is_applied_once_in_order(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    runs: list[str] = []

    def v2(conn: sqlite3.Connection) -> None:
        runs.append("v2")
        conn.execute("ALTER TABLE items ADD COLUMN size INTEGER NOT NULL DEFAULT 0")

    open_database(path, schema(V1)).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO items (name) VALUES ('kept')")
    conn.commit()
    conn.close()
    for _ in range(3):  # the first open migrates 1 -> 2; the others find it done
        db = open_database(path, schema(V1, v2))
        rows = db.conn.execute("SELECT name, size FROM items").fetchall()
        db.close()
        assert rows == [("kept", 0)]
    assert runs == ["v2"]
    assert header(path) == (APP_ID, 2)


def test_a_failing_migration_leaves_the_file_at_the_version_before(tmp_path: Path) -> None:
    path = tmp_path / "f.db"
    open_database(path, schema(V1)).close()

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE items ADD COLUMN size INTEGER")
        raise RuntimeError("half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        open_database(path, schema(V1, broken))
    assert header(path) == (APP_ID, 1)
    db = open_database(path, schema(V1, V2))  # the fixed code migrates it
    db.close()
    assert header(path) == (APP_ID, 2)


def test_another_sqlite_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(
        ForeignFileError, match=f"{path}: an SQLite database, but not an lvgw test store"
    ):
        open_database(path, schema(V1, unmarked_tables=frozenset({"items"})))
    assert header(path) == (0, 0)


def test_a_file_from_before_versions_is_adopted_and_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE items (name TEXT PRIMARY KEY)")
    conn.execute("INSERT INTO items VALUES ('from before')")
    conn.commit()
    conn.close()
    adopt = ("CREATE TABLE IF NOT EXISTS items (name TEXT PRIMARY KEY)",)
    db = open_database(path, schema(adopt, V2, unmarked_tables=frozenset({"items"})))
    rows = db.conn.execute("SELECT name, size FROM items").fetchall()
    db.close()
    assert rows == [("from before", 0)]
    assert header(path) == (APP_ID, 2)


def test_a_file_that_is_not_sqlite_fails_with_sqlites_error(tmp_path: Path) -> None:
    path = tmp_path / "text.db"
    path.write_bytes(b"not a database\n" * 300)
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        open_database(path, schema(V1))


def test_read_only_needs_a_file_of_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    with pytest.raises(MissingFileError, match=f"{path}: no test store there"):
        open_database(path, schema(V1), read_only=True)
    assert not path.exists()
    open_database(path, schema(V1)).close()
    with pytest.raises(OlderFileError, match="needs migrating"):
        open_database(path, schema(V1, V2), read_only=True)
    assert header(path) == (APP_ID, 1)  # a reader never migrates
    db = open_database(path, schema(V1), read_only=True)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.conn.execute("INSERT INTO items VALUES ('x')")
    finally:
        db.close()


def test_a_transaction_rolls_back_on_error_and_sets_its_sync_level(tmp_path: Path) -> None:
    db = open_database(tmp_path / "t.db", schema(V1))
    try:

        def twice(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO items VALUES ('a')")
            conn.execute("INSERT INTO items VALUES ('a')")

        with pytest.raises(sqlite3.IntegrityError), db.transaction("NORMAL") as conn:
            twice(conn)
        assert db.conn.execute("SELECT count(*) FROM items").fetchone()[0] == 0
        assert db.pragma_int("synchronous") == 1
        with db.transaction("FULL") as conn:
            conn.execute("INSERT INTO items VALUES ('b')")
        assert db.pragma_int("synchronous") == 2
        assert not db.conn.in_transaction
    finally:
        db.close()


def test_max_db_bytes_caps_the_file(tmp_path: Path) -> None:
    db = open_database(tmp_path / "cap.db", schema(V1), Pragmas(max_db_bytes=64 * 1024))
    try:
        rows = [(f"{n:04d}" + "x" * 1000,) for n in range(1000)]
        with pytest.raises(sqlite3.OperationalError, match="full"), db.transaction() as conn:
            conn.executemany("INSERT INTO items VALUES (?)", rows)
    finally:
        db.close()
