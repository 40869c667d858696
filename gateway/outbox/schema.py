"""The outbox file: its schema and connection settings (opened by `gateway.sqlite`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.outbox.errors import OutboxCorruptError, translate
from gateway.sqlite import Database, Pragmas, Schema, SchemaError, open_database

# `PRAGMA application_id` marks the file as an lvgw outbox ("lvgo"), so that another
# SQLite database handed over by mistake is refused instead of written into.
APPLICATION_ID = 0x6C76676F

# A write-ahead log larger than this is truncated back to it after a checkpoint, so a
# burst (a long outage draining) does not leave a large -wal file behind.
JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024

_VERSION_1 = (
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

# Records: state a caller keeps beside its messages, written in the transaction that
# stores them (the open tickets, so a decision and its events take one fsync).
_VERSION_2 = (
    """CREATE TABLE records (
        key TEXT PRIMARY KEY,
        body TEXT NOT NULL
    ) WITHOUT ROWID""",
)

# INCREMENTAL auto-vacuum lets the file give pages back after a long backlog drains.
SCHEMA = Schema("outbox", APPLICATION_ID, (_VERSION_1, _VERSION_2), incremental_vacuum=True)
SCHEMA_VERSION = SCHEMA.version


def connect(path: Path, max_db_bytes: int | None = None) -> Database:
    """Open (creating on first use) the outbox at ``path``, ready for use in this thread.

    Commits are FULL (fsynced) by default; the store lowers it to NORMAL for what a
    power cut may lose (metrics, acknowledgements), see docs/outbox.md.
    """
    pragmas = Pragmas(
        synchronous="FULL",
        journal_size_limit=JOURNAL_SIZE_LIMIT,
        temp_store_memory=True,
        max_db_bytes=max_db_bytes,
    )
    try:
        return open_database(path, SCHEMA, pragmas)
    except SchemaError as exc:
        raise OutboxCorruptError(str(exc)) from exc
    except sqlite3.Error as exc:
        raise translate(exc, path, "open the outbox") from exc
