"""The embedded store's exceptions, and the one place SQLite errors are translated.

StoreError                  the store could not do what was asked; nothing was half-done
├── StoreFullError          no space left on the disk: the samples stay buffered, retry later
├── StoreCorruptError       the file is not an lvgw metric store, or SQLite found it damaged
├── StoreReadOnlyError      a write was asked of a store opened read-only
└── StoreClosedError        the store was used after ``close()`` (or before ``open()``)
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gateway.sqlite import sqlite_code


class StoreError(Exception):
    """The store could not do what was asked; what was committed is unchanged."""


class StoreFullError(StoreError):
    """No space left on the disk for a flush; the samples are still buffered."""


class StoreCorruptError(StoreError):
    """The file is not an lvgw metric store, was written by a newer lvgw, or is damaged."""


class StoreReadOnlyError(StoreError):
    """The store was opened read-only (to look at a running agent's history)."""


class StoreClosedError(StoreError):
    """The store was used after ``close()``, or before ``open()``."""


def translate(exc: sqlite3.Error, path: Path, doing: str) -> StoreError:
    """The store exception for a SQLite error met while ``doing`` something on ``path``."""
    primary = sqlite_code(exc)
    if primary == sqlite3.SQLITE_FULL:
        return StoreFullError(f"{path}: no space left to {doing} ({exc})")
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return StoreCorruptError(f"{path}: not an lvgw metric store or damaged ({exc})")
    if primary == sqlite3.SQLITE_READONLY:
        return StoreReadOnlyError(f"{path}: cannot {doing}: opened read-only ({exc})")
    return StoreError(f"{path}: cannot {doing}: {exc}")
