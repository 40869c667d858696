"""Opening one SQLite file the lvgw way: pragmas, the file's identity and its schema version.

Every state file of the gateway (outbox, ticket store, metric store, proactive state,
ticket history) is opened here. `open_database`:

1. connects (read-only through a ``mode=ro`` URI when asked) and sets the busy timeout;
2. checks the file is one of ours: ``PRAGMA application_id`` names the kind of file, so
   another SQLite database handed over by mistake is refused instead of written into;
3. brings the schema up to date: ``PRAGMA user_version`` is the number of migrations
   applied; each pending one runs in its own transaction that also sets the version,
   so a crash leaves the file at one version or the next, never between. Forward only:
   a file written by a newer lvgw is refused with `NewerFileError`;
4. sets the pragmas the user asked for (WAL, synchronous level, log limits, ...).

SQLite errors are left as they are (`sqlite3.Error`): each store translates them into
its own exceptions, naming the file. The schema problems above raise `SchemaError`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Synchronous = Literal["OFF", "NORMAL", "FULL"]

# A migration: SQL statements, or a function for what SQL alone cannot say. It runs
# inside the transaction that moves the file to the next version.
Migration = tuple[str, ...] | Callable[[sqlite3.Connection], None]


@dataclass(frozen=True, slots=True)
class Schema:
    """What a kind of file holds and how each version of it came about."""

    name: str  # what the file is, in messages: "outbox", "metric store"
    application_id: int  # PRAGMA application_id: marks the file as this kind
    migrations: tuple[Migration, ...]  # migrations[n] takes version n to n + 1
    # INCREMENTAL lets a store give pages back to the file system; it can only be
    # chosen before the first table exists, so it applies to new files.
    incremental_vacuum: bool = False
    # Tables a file from before application ids and versions may hold: such a file
    # (no id, version 0, only these tables) is taken as version 0 and migrated.
    unmarked_tables: frozenset[str] = frozenset()

    @property
    def version(self) -> int:
        return len(self.migrations)


@dataclass(frozen=True, slots=True)
class Pragmas:
    """Connection settings; the defaults suit a small file of decisions."""

    synchronous: Synchronous = "FULL"
    busy_timeout_ms: int = 5000  # `lvgw status` or the report may be reading meanwhile
    journal_size_limit: int | None = None  # bytes the WAL is truncated to after a checkpoint
    wal_autocheckpoint: int | None = None  # bytes of WAL between automatic checkpoints
    cache_kib: int | None = None
    temp_store_memory: bool = False
    secure_delete: bool | None = None
    max_db_bytes: int | None = None  # a cap on the file (not its WAL): SQLITE_FULL past it


class SchemaError(Exception):
    """The file cannot be used by this lvgw; the message names it and says why."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class ForeignFileError(SchemaError):
    """An SQLite database (or an empty one opened read-only), but not of this kind."""


class NewerFileError(SchemaError):
    """Written by a newer lvgw: its schema version is above what this code knows."""


class OlderFileError(SchemaError):
    """Opened read-only but needs migrating: its owner migrates it when it starts."""


class MissingFileError(SchemaError):
    """Opened read-only, and there is no file."""


def open_database(
    path: Path, schema: Schema, pragmas: Pragmas = Pragmas(), *, read_only: bool = False
) -> Database:
    """Open (creating on first use, unless ``read_only``) ``path`` as a ``schema`` file."""
    if read_only:
        if not path.exists():
            raise MissingFileError(path, f"no {schema.name} there")
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    else:
        conn = sqlite3.connect(path)
    conn.isolation_level = None  # transactions are explicit: see `transaction`
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(pragmas.busy_timeout_ms)}")
        _check_and_migrate(conn, path, schema, read_only)
        _set_pragmas(conn, path, pragmas, read_only)
    except BaseException:
        conn.close()
        raise
    return Database(conn, path, pragmas.synchronous, read_only)


class Database:
    """An open file: its connection, used from one thread only (see `Worker`)."""

    def __init__(
        self, conn: sqlite3.Connection, path: Path, synchronous: Synchronous, read_only: bool
    ) -> None:
        self.conn = conn
        self.path = path
        self.read_only = read_only
        self._synchronous = synchronous

    @contextlib.contextmanager
    def transaction(self, synchronous: Synchronous | None = None) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed at ``synchronous`` (the file's level if None)."""
        if synchronous is not None:
            self.set_synchronous(synchronous)
        with transaction(self.conn):
            yield self.conn

    def set_synchronous(self, level: Synchronous) -> None:
        # FULL fsyncs the log at every commit; NORMAL only at checkpoints, which keeps a
        # commit safe from a killed process but not from a power cut.
        if level != self._synchronous:
            self.conn.execute(f"PRAGMA synchronous = {level}")
            self._synchronous = level

    def pragma_int(self, name: str) -> int:
        return pragma_int(self.conn, name)

    def disk_bytes(self) -> tuple[int, int]:
        """The sizes of the file and of its write-ahead log, in bytes."""
        return _size(self.path), _size(Path(f"{self.path}-wal"))

    def close(self) -> None:
        self.conn.close()


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back on any error, which propagates.

    IMMEDIATE takes the write lock at the start, so two writers never both read and
    then fail to upgrade (the busy timeout makes the second one wait instead).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def pragma_int(conn: sqlite3.Connection, name: str) -> int:
    return int(conn.execute(f"PRAGMA {name}").fetchone()[0])


def sqlite_code(exc: sqlite3.Error) -> int | None:
    """The primary result code of a SQLite error (``SQLITE_FULL``...), if it has one."""
    # Extended codes (SQLITE_IOERR_WRITE...) carry the primary code in their low byte.
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


# -- opening ---------------------------------------------------------------------------


def _check_and_migrate(
    conn: sqlite3.Connection, path: Path, schema: Schema, read_only: bool
) -> None:
    # The first read of the header: a file that is not SQLite fails here (SQLITE_NOTADB).
    version = _version_of(conn, path, schema)
    if version > schema.version:
        raise NewerFileError(
            path,
            f"written by a newer lvgw ({schema.name} schema {version}; this one knows "
            f"up to {schema.version})",
        )
    if version == schema.version:
        return
    if read_only and version == 0 and not _tables(conn):
        raise ForeignFileError(path, f"an empty SQLite database, not an lvgw {schema.name}")
    if read_only:
        raise OlderFileError(
            path,
            f"{schema.name} schema {version} needs migrating to {schema.version}; the "
            "gateway does it when it starts",
        )
    if _tables(conn) == set():
        _prepare_new_file(conn, schema)
    while version < schema.version:
        with transaction(conn):
            # Read again under the write lock: another process may have migrated it.
            version = _version_of(conn, path, schema)
            if version >= schema.version:
                break
            _apply(schema.migrations[version], conn)
            conn.execute(f"PRAGMA application_id = {int(schema.application_id)}")
            conn.execute(f"PRAGMA user_version = {version + 1}")
        version += 1


def _version_of(conn: sqlite3.Connection, path: Path, schema: Schema) -> int:
    app_id = pragma_int(conn, "application_id")
    version = pragma_int(conn, "user_version")
    if app_id == schema.application_id:
        return version
    if app_id == 0 and version == 0:
        tables = _tables(conn)
        if not tables or (schema.unmarked_tables and tables <= schema.unmarked_tables):
            return 0  # new, or one of ours from before versions
    raise ForeignFileError(path, f"an SQLite database, but not an lvgw {schema.name}")


def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {str(name) for (name,) in rows if not str(name).startswith("sqlite_")}


def _prepare_new_file(conn: sqlite3.Connection, schema: Schema) -> None:
    if schema.incremental_vacuum:
        conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # before the first table
    conn.execute("PRAGMA journal_mode = WAL")


def _apply(migration: Migration, conn: sqlite3.Connection) -> None:
    if callable(migration):
        migration(conn)
        return
    for statement in migration:
        conn.execute(statement)


def _set_pragmas(conn: sqlite3.Connection, path: Path, pragmas: Pragmas, read_only: bool) -> None:
    if pragmas.cache_kib is not None:
        conn.execute(f"PRAGMA cache_size = -{int(pragmas.cache_kib)}")
    if pragmas.temp_store_memory:
        conn.execute("PRAGMA temp_store = MEMORY")
    if read_only:
        return
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise SchemaError(path, f"cannot switch to WAL mode (got {mode!r})")
    conn.execute(f"PRAGMA synchronous = {pragmas.synchronous}")
    if pragmas.secure_delete is not None:
        conn.execute(f"PRAGMA secure_delete = {'ON' if pragmas.secure_delete else 'OFF'}")
    if pragmas.journal_size_limit is not None:
        conn.execute(f"PRAGMA journal_size_limit = {int(pragmas.journal_size_limit)}")
    page_size = pragma_int(conn, "page_size")
    if pragmas.wal_autocheckpoint is not None:
        conn.execute(f"PRAGMA wal_autocheckpoint = {int(pragmas.wal_autocheckpoint) // page_size}")
    if pragmas.max_db_bytes is not None:
        conn.execute(f"PRAGMA max_page_count = {max(1, int(pragmas.max_db_bytes) // page_size)}")


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0
