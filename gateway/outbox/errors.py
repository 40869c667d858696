"""The outbox's exceptions, and the one place SQLite errors are translated into them.

OutboxError                 anything the outbox could not do; nothing was half-done
├── OutboxFullError         no room on disk (or under ``max_db_bytes``): retry later
├── OutboxCorruptError      the file is not an lvgw outbox, or SQLite found it damaged
└── OutboxClosedError       the outbox was used after ``close()``
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.sqlite import sqlite_code


class OutboxError(Exception):
    """The outbox could not do what was asked; the stored messages are unchanged."""


class OutboxFullError(OutboxError):
    """No space to store the message: the disk (or the configured cap) is full.

    Nothing already stored was lost. The caller should log it and retry the same
    ``put`` later; it succeeds again once space is freed (acknowledged messages are
    deleted, older metrics are dropped).
    """


class OutboxCorruptError(OutboxError):
    """The database file is not an lvgw outbox, was written by a newer lvgw, or is damaged."""


class OutboxClosedError(OutboxError):
    """The outbox was used after ``close()``."""


_FULL_CODES = frozenset({sqlite3.SQLITE_FULL})
_CORRUPT_CODES = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def is_disk_full(exc: sqlite3.Error) -> bool:
    return sqlite_code(exc) in _FULL_CODES


def translate(exc: sqlite3.Error, path: Path, doing: str) -> OutboxError:
    """The outbox exception for a SQLite error met while ``doing`` something on ``path``."""
    code = sqlite_code(exc)
    if code in _FULL_CODES:
        return OutboxFullError(f"{path}: no space left to {doing} ({exc})")
    if code in _CORRUPT_CODES:
        return OutboxCorruptError(f"{path}: not an lvgw outbox or damaged; cannot {doing} ({exc})")
    return OutboxError(f"{path}: cannot {doing}: {exc}")
