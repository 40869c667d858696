"""The gateway's SQLite files, opened one way and used from one worker thread each.

`open_database` opens a file with its pragmas, checks it is the kind expected and
migrates its schema forward (`database.py`); `Worker` is the thread that owns an open
store for the asyncio side (`worker.py`). The outbox, the ticket store, the metric
store, the proactive state and the ticket history are built on these two; `AsyncStore`
(`facade.py`) is the asyncio face they share: open, close and awaited calls.
"""

from gateway.sqlite.database import (
    Database,
    ForeignFileError,
    Migration,
    MissingFileError,
    NewerFileError,
    OlderFileError,
    Pragmas,
    Schema,
    SchemaError,
    Synchronous,
    open_database,
    pragma_int,
    sqlite_code,
    transaction,
)
from gateway.sqlite.facade import AsyncStore
from gateway.sqlite.worker import Worker, WorkerStoppedError

__all__ = [
    "AsyncStore",
    "Database",
    "ForeignFileError",
    "Migration",
    "MissingFileError",
    "NewerFileError",
    "OlderFileError",
    "Pragmas",
    "Schema",
    "SchemaError",
    "Synchronous",
    "Worker",
    "WorkerStoppedError",
    "open_database",
    "pragma_int",
    "sqlite_code",
    "transaction",
]
