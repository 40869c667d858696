"""The store's SQLite file: connection settings, tables, bookkeeping values and sizes.

Tables (all times are whole seconds since the epoch):

- ``series``: one row per (device, point, instance), numbered, so sample rows carry a
  small integer instead of three strings.
- ``recent``: samples as flushed, keyed ``(ts, series_id)``: every flush appends at
  the right edge of one b-tree, touching a handful of pages.
- ``raw``: samples keyed ``(series_id, ts)`` for per-series reads; filled from
  ``recent`` every 3 hours (one pass over every series' newest page per 3 hours
  instead of one per flush; docs/embedded-store.md shows what that saves an SD card).
- ``agg_5m``, ``agg_1h``: aggregate buckets keyed ``(series_id, ts)``.
- ``latest``: each series' newest sample, for `latest()` in one lookup.
- ``meta``: watermarks of downsampling and pruning.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gateway.metrics.store.errors import StoreCorruptError, StoreError, translate
from gateway.sqlite import (
    Database,
    MissingFileError,
    Pragmas,
    Schema,
    SchemaError,
    open_database,
    pragma_int,
)
from gateway.sqlite import transaction as sqlite_transaction

# `PRAGMA application_id` marks the file as an lvgw metric store ("lvgm").
APPLICATION_ID = 0x6C76676D

MIB = 1024 * 1024
# SQLite's page cache: enough pages that one transaction (a flush, a batch of a
# maintenance pass) never spills and writes a page twice: bench/store_wear.py writes
# as many bytes per hour with 8 MiB as it did with 32. Larger would only keep more of
# the file in the process (RSS) where the kernel's page cache holds it as well.
CACHE_KIB = 8 * 1024

_AGGREGATE_COLUMNS = """(
        series_id INTEGER NOT NULL,
        ts INTEGER NOT NULL,        -- bucket start
        min REAL NOT NULL,
        max REAL,                   -- max, sum, last: NULL when all samples were equal
        sum REAL,
        count INTEGER NOT NULL,
        last REAL,
        PRIMARY KEY (series_id, ts)
    ) WITHOUT ROWID"""

_VERSION_1 = (
    """CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID""",
    """CREATE TABLE series (
        id INTEGER PRIMARY KEY,
        device TEXT NOT NULL,
        point TEXT NOT NULL,
        instance TEXT NOT NULL,
        UNIQUE (device, point, instance)
    )""",
    """CREATE TABLE latest (
        series_id INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        value REAL NOT NULL
    )""",
    """CREATE TABLE recent (
        ts INTEGER NOT NULL,
        series_id INTEGER NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (ts, series_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE raw (
        series_id INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (series_id, ts)
    ) WITHOUT ROWID""",
    f"CREATE TABLE agg_5m {_AGGREGATE_COLUMNS}",
    f"CREATE TABLE agg_1h {_AGGREGATE_COLUMNS}",
)

# INCREMENTAL auto-vacuum lets pruning give pages back to the file system when the
# budget needs it.
SCHEMA = Schema("metric store", APPLICATION_ID, (_VERSION_1,), incremental_vacuum=True)
SCHEMA_VERSION = SCHEMA.version


@dataclass(frozen=True, slots=True)
class FileSize:
    file_bytes: int
    wal_bytes: int
    page_size: int
    pages: int
    free_pages: int

    @property
    def used_bytes(self) -> int:
        return (self.pages - self.free_pages) * self.page_size

    @property
    def free_bytes(self) -> int:
        return self.free_pages * self.page_size


def log_limit(budget_bytes: int) -> int:
    """The write-ahead log's share of the budget: checkpoints keep it under this
    (the move from `recent` to `raw`, the largest transaction, may briefly
    grow it beyond until the next checkpoint)."""
    return max(MIB, min(8 * MIB, budget_bytes // 16))


def connect(path: Path, budget_bytes: int, *, read_only: bool = False) -> Database:
    """Open (creating on first use, unless ``read_only``) the store at ``path``."""
    log_bytes = log_limit(budget_bytes)
    pragmas = Pragmas(
        # NORMAL: the log is synced at checkpoints, not at every commit. A power cut can
        # lose the commits since the last checkpoint, never corrupt the file; metrics
        # can afford that, the card's write budget is better spent elsewhere.
        synchronous="NORMAL",
        cache_kib=CACHE_KIB,
        temp_store_memory=True,
        # Debian builds SQLite with secure_delete on: every deleted row would be zeroed
        # on disk, a second write for nothing (metrics are not secrets).
        secure_delete=False,
        # A checkpoint copies each page once however often it was written since the
        # last: a larger log between checkpoints saves writes to the file.
        journal_size_limit=log_bytes,
        wal_autocheckpoint=log_bytes,
    )
    try:
        return open_database(path, SCHEMA, pragmas, read_only=read_only)
    except MissingFileError as exc:
        raise StoreError(str(exc)) from exc
    except SchemaError as exc:
        raise StoreCorruptError(str(exc)) from exc
    except sqlite3.Error as exc:
        raise translate(exc, path, "open the metric store") from exc


def file_size(db: Database) -> FileSize:
    file_bytes, wal_bytes = db.disk_bytes()
    conn = db.conn
    return FileSize(
        file_bytes=file_bytes,
        wal_bytes=wal_bytes,
        page_size=pragma_int(conn, "page_size"),
        pages=pragma_int(conn, "page_count"),
        free_pages=pragma_int(conn, "freelist_count"),
    )


class Meta:
    """Integer bookkeeping values kept in the file (watermarks), cached in memory.

    `set` writes inside the caller's transaction; the cache follows only once
    `transaction` commits it.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._values = {str(k): int(v) for k, v in conn.execute("SELECT key, value FROM meta")}
        self._staged: dict[str, int] = {}

    def get(self, key: str, default: int) -> int:
        return self._values.get(key, default)

    def set(self, key: str, value: int) -> None:
        self._conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
        self._staged[key] = value

    def committed(self) -> None:
        self._values.update(self._staged)
        self._staged.clear()

    def rolled_back(self) -> None:
        self._staged.clear()


@contextmanager
def transaction(conn: sqlite3.Connection, meta: Meta | None = None) -> Iterator[None]:
    """One write transaction; rolled back (and the meta cache untouched) on any error."""
    try:
        with sqlite_transaction(conn):
            yield
    except BaseException:
        if meta is not None:
            meta.rolled_back()
        raise
    if meta is not None:
        meta.committed()
