"""The ledger on PostgreSQL, for several workers on one database.

The driver is psycopg 3 (psycopg.org): the maintained successor of psycopg2, with a
synchronous API that suits the ledger's worker threads (gateway/sqlite/worker.py) and
server-side parameter binding. Each `PgSql` is one connection, made lazily and made
again after it broke: a database that is down or restarting fails the calls meanwhile
(`is_unavailable`), the callers keep their messages unacknowledged, and the next call
after it is back connects again. Each new connection brings the schema up to date
(`migrate`), under an advisory lock so workers starting together migrate it once.

Isolation is READ COMMITTED, the default: every statement sees what other workers
committed before it. What must not interleave is serialized by row locks: applying a
ticket's events holds the ticket's row (`Dialect.lock_row`), a delivery being sent is
held by the worker that claimed it (``FOR UPDATE SKIP LOCKED``; center/ledger/store.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
import psycopg.errors

from center.ledger.schema import NAME, POSTGRESQL_MIGRATIONS
from center.ledger.sql import POSTGRESQL, Cursor
from center.ledger.url import LedgerUrl

VERSION_TABLE = "lvgw_center_schema"
# pg_advisory_xact_lock's key for migrating: "lvgc" (the SQLite ledger's application id).
MIGRATION_LOCK = int.from_bytes(b"lvgc", "big")
CONNECT_TIMEOUT_S = 5


class LedgerSchemaError(Exception):
    """The database cannot be used as this version's ledger; the message says why."""


class PgSql:
    dialect = POSTGRESQL

    def __init__(self, url: LedgerUrl, *, application: str = "lvgw-center") -> None:
        self.url = url
        self.where = url.where
        self._application = application
        self._conn: psycopg.Connection[Any] | None = None

    def connection(self) -> psycopg.Connection[Any]:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        self._conn = None
        conn = psycopg.connect(
            self.url.url,
            password=self.url.password(),
            autocommit=True,  # transactions are explicit: `transaction`, `begin`
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name=self._application,
            # A worker whose database host vanished learns it in ~25 s, not hours.
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
        )
        try:
            migrate(conn, self.where)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor:
        conn = self.connection()
        try:
            return conn.execute(self.dialect.statement(sql), args)
        except (psycopg.OperationalError, psycopg.InterfaceError):
            if conn.broken or conn.closed:
                self._drop()
            raise

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        conn = self.connection()
        try:
            with conn.cursor() as cursor:
                cursor.executemany(self.dialect.statement(sql), rows)
        except (psycopg.OperationalError, psycopg.InterfaceError):
            if conn.broken or conn.closed:
                self._drop()
            raise

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.begin()
        try:
            yield
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def begin(self) -> None:
        self.execute("BEGIN")

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            self._drop()
            return
        try:
            conn.execute("ROLLBACK")
        except psycopg.Error:
            self._drop()

    def close(self) -> None:
        self._drop()

    def is_conflict(self, exc: BaseException) -> bool:
        return is_conflict(exc)

    def is_unavailable(self, exc: BaseException) -> bool:
        return is_unavailable(exc)

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None


def is_unavailable(exc: BaseException) -> bool:
    """The database is down, restarting or out of reach (or the transaction lost a
    conflict): the message waits at the broker and is taken again. Any other error is
    the statement's or the data's."""
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError | OSError)


def is_conflict(exc: BaseException) -> bool:
    """Two workers' transactions crossed (deadlock, serialization): run it again."""
    return isinstance(exc, psycopg.errors.TransactionRollback)


def migrate(conn: psycopg.Connection[Any], where: str) -> None:
    """Bring the ledger's schema up to this version, or refuse a database that is not
    an lvgw-center ledger or was written by a newer one."""
    target = len(POSTGRESQL_MIGRATIONS)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        (exists,) = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (VERSION_TABLE,)).fetchone()  # type: ignore[misc]
        if not exists:
            (tables,) = conn.execute(  # type: ignore[misc]
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
            ).fetchone()
            if tables:
                raise LedgerSchemaError(
                    f"{where}: the database has tables but is not an {NAME}:"
                    " give the ledger a database of its own"
                )
            conn.execute(f"CREATE TABLE {VERSION_TABLE} (version INTEGER NOT NULL)")
            conn.execute(f"INSERT INTO {VERSION_TABLE} (version) VALUES (0)")
        (version,) = conn.execute(f"SELECT version FROM {VERSION_TABLE}").fetchone()  # type: ignore[misc]
        if version > target:
            raise LedgerSchemaError(
                f"{where}: written by a newer lvgw-center ({NAME} schema {version};"
                f" this one knows up to {target})"
            )
        for migration in POSTGRESQL_MIGRATIONS[version:]:
            for statement in migration:
                conn.execute(statement)
        if version < target:
            conn.execute(f"UPDATE {VERSION_TABLE} SET version = %s", (target,))
