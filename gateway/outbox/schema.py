"""Opening the outbox file: connection settings, schema creation and version checks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.outbox.errors import OutboxCorruptError, translate

# `PRAGMA application_id` marks the file as an lvgw outbox ("lvgo"), so that another
# SQLite database handed over by mistake is refused instead of written into.
APPLICATION_ID = 0x6C76676F
SCHEMA_VERSION = 1

# A write-ahead log larger than this is truncated back to it after a checkpoint, so a
# burst (a long outage draining) does not leave a large -wal file behind.
JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024

_CREATE = (
    """CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids never reused
        class TEXT NOT NULL,
        topic TEXT NOT NULL,
        payload BLOB NOT NULL,
        qos INTEGER NOT NULL,
        retain INTEGER NOT NULL,
        size INTEGER NOT NULL,                 -- payload + topic bytes, for budgets
        created_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        failed_at REAL
    )""",
    "CREATE INDEX messages_by_class ON messages (class, id)",
    "CREATE INDEX messages_failed ON messages (failed_at) WHERE failed_at IS NOT NULL",
    """CREATE TABLE dropped (
        class TEXT PRIMARY KEY,
        messages INTEGER NOT NULL,
        bytes INTEGER NOT NULL
    )""",
)


def connect(path: Path, max_db_bytes: int | None = None) -> sqlite3.Connection:
    """Open (creating on first use) the outbox at ``path``, ready for use in this thread."""
    try:
        conn = sqlite3.connect(path, isolation_level=None)  # transactions are explicit
    except sqlite3.Error as exc:
        raise translate(exc, path, "open the outbox") from exc
    try:
        _prepare(conn, path, max_db_bytes)
    except sqlite3.Error as exc:
        conn.close()
        raise translate(exc, path, "open the outbox") from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _prepare(conn: sqlite3.Connection, path: Path, max_db_bytes: int | None) -> None:
    conn.execute("PRAGMA busy_timeout = 5000")  # `lvgw status` may read it meanwhile
    # The first read of the header: a file that is not SQLite fails here.
    app_id = _pragma_int(conn, "application_id")
    version = _pragma_int(conn, "user_version")
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app_id == 0 and version == 0 and tables == 0:
        _create(conn)
    elif app_id != APPLICATION_ID:
        raise OutboxCorruptError(f"{path}: an SQLite database, but not an lvgw outbox")
    elif version > SCHEMA_VERSION:
        raise OutboxCorruptError(
            f"{path}: written by a newer lvgw (outbox schema {version}; this one knows "
            f"up to {SCHEMA_VERSION})"
        )
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise OutboxCorruptError(f"{path}: cannot switch to WAL mode (got {mode!r})")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
    conn.execute("PRAGMA temp_store = MEMORY")
    if max_db_bytes is not None:
        page_size = _pragma_int(conn, "page_size")
        conn.execute(f"PRAGMA max_page_count = {max(1, max_db_bytes // page_size)}")


def _create(conn: sqlite3.Connection) -> None:
    # auto_vacuum must be chosen before the first table exists; INCREMENTAL lets the
    # file give pages back to the file system after a long backlog drains.
    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _CREATE:
            conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _pragma_int(conn: sqlite3.Connection, name: str) -> int:
    return int(conn.execute(f"PRAGMA {name}").fetchone()[0])
