"""The ledger on SQLite: one file, one worker.

The file is opened through the gateway's SQLite helper (gateway/sqlite: WAL, the
``application_id`` that marks it as a ledger, versioned migrations). SQLite has one
writer at a time and its file lives on one host, so one ``lvgw-center run`` uses a
ledger: `WorkerLock` holds an exclusive lock on ``PATH.lock`` beside it while the
worker runs, and a second worker is refused (several workers share a PostgreSQL
ledger instead). ``lvgw-center tickets`` only reads and takes no lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from center.ledger.schema import SCHEMA
from center.ledger.sql import SQLITE, Cursor
from gateway.sqlite import Database, Pragmas, open_database


class LedgerBusyError(Exception):
    """Another worker runs on this SQLite ledger."""


class SqliteSql:
    dialect = SQLITE

    def __init__(self, db: Database) -> None:
        self._db = db
        self.where = str(db.path)

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False) -> SqliteSql:
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        return cls(open_database(path, SCHEMA, Pragmas(synchronous="FULL"), read_only=read_only))

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor:
        return self._db.conn.execute(sql, args)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._db.conn.executemany(sql, rows)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self._db.transaction():
            yield

    # One worker and one connection: a claimed delivery needs no transaction of its own
    # (nobody else could take it), so these only keep the interface.
    def begin(self) -> None:
        pass

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        self._db.close()

    def is_conflict(self, exc: BaseException) -> bool:
        return False  # one writer at a time: transactions wait, they never cross

    def is_unavailable(self, exc: BaseException) -> bool:
        return is_unavailable(exc)


class WorkerLock:
    """An exclusive lock on ``PATH.lock`` for as long as a worker runs on ``PATH``.

    flock(2) is released by the kernel when the process ends, however it ends, so a
    killed worker never leaves a stale lock behind.
    """

    def __init__(self, ledger: Path) -> None:
        self.path = ledger.with_name(ledger.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise LedgerBusyError(
                f"ledger {self.path.with_suffix('')}: another lvgw-center worker (pid {holder})"
                " runs on it; an SQLite ledger takes one worker: stop that one, or give"
                " every worker a PostgreSQL ledger (database: postgresql://...)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


def is_unavailable(exc: BaseException) -> bool:
    """The ledger failed (disk full, file gone, I/O): the message waits at the broker."""
    return isinstance(exc, sqlite3.Error | OSError)
