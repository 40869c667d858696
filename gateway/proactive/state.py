"""What the proactive jobs have done, kept in ``<state_dir>/proactive.db``.

This is the memory that makes the jobs exactly-once across restarts: which
inspection period already has its ticket, which contract end date was already
announced, which day's digest went out, and when each job last ran. It is saved
after the job's effects are durable (a ticket in the ticket store, a digest in the
outbox): a crash in between runs the job again, and the ticket book or the day mark
absorbs the repeat.

One SQLite row in WAL mode (the file is opened by `gateway.sqlite` and used from its
own worker thread): a save is atomic whatever happens to the power. A save
that changes a mark is synced to disk before the job counts as done; one that only
moves a job's last-run time is not (SQLite's NORMAL sync: after a power cut it may
be the previous one, which only means one harmless re-run).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway.proactive.errors import ProactiveStateError
from gateway.sqlite import AsyncStore, Database, Schema, SchemaError, open_database

STATE_NAME = "proactive.db"
VERSION = 1


@dataclass(slots=True)
class ProactiveState:
    last_run: dict[str, datetime] = field(default_factory=dict)  # job name -> last run
    inspection_due: str | None = None  # ISO date of the period with its ticket opened
    expiry_notices: list[str] = field(default_factory=list)  # contract ends announced
    digest_day: str | None = None  # ISO date (site time) of the last digest sent

    def marks(self) -> dict[str, Any]:
        """What must survive a power cut: everything but the last-run times."""
        data = self.to_json()
        del data["last_run"]
        return data

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "last_run": {job: at.isoformat() for job, at in sorted(self.last_run.items())},
            "inspection_due": self.inspection_due,
            "expiry_notices": sorted(self.expiry_notices),
            "digest_day": self.digest_day,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProactiveState:
        return cls(
            last_run={job: datetime.fromisoformat(at) for job, at in data["last_run"].items()},
            inspection_due=data.get("inspection_due"),
            expiry_notices=list(data.get("expiry_notices", [])),
            digest_day=data.get("digest_day"),
        )


# `PRAGMA application_id` marks the file as lvgw's proactive state ("lvgp").
APPLICATION_ID = 0x6C766770

# IF NOT EXISTS: a file from before schema versions already has the table.
_VERSION_1 = (
    "CREATE TABLE IF NOT EXISTS proactive_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
SCHEMA = Schema(
    "proactive state",
    APPLICATION_ID,
    (_VERSION_1,),
    unmarked_tables=frozenset({"proactive_state"}),
)


class ProactiveFile:
    """`ProactiveState` in ``proactive.db``; every call from the thread that opened it."""

    def __init__(self, db: Database) -> None:
        self.path = db.path
        self._db = db

    @classmethod
    def open(cls, path: Path) -> ProactiveFile:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return cls(open_database(path, SCHEMA))
        except (sqlite3.Error, SchemaError, OSError) as exc:
            raise ProactiveStateError(f"{path}: cannot open: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def load(self) -> ProactiveState:
        try:
            row = self._db.conn.execute(
                "SELECT value FROM proactive_state WHERE key = 'state'"
            ).fetchone()
        except sqlite3.Error as exc:
            raise ProactiveStateError(f"{self.path}: cannot read: {exc}") from exc
        if row is None:
            return ProactiveState()
        try:
            data = json.loads(row[0])
            if data.get("version") != VERSION:
                raise ValueError(f"unknown version {data.get('version')!r}")
            return ProactiveState.from_json(data)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # Refuse rather than start afresh: a blank memory would send everything again.
            raise ProactiveStateError(f"{self.path}: not a valid proactive state: {exc}") from exc

    def save(self, state: ProactiveState, *, durable: bool = True) -> None:
        """Replace the stored state; with ``durable``, synced to disk before returning."""
        text = json.dumps(state.to_json())
        try:
            with self._db.transaction("FULL" if durable else "NORMAL") as conn:
                conn.execute(
                    "INSERT INTO proactive_state (key, value) VALUES ('state', ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (text,),
                )
        except sqlite3.Error as exc:
            raise ProactiveStateError(f"{self.path}: cannot write: {exc}") from exc


class StateFile(AsyncStore[ProactiveFile]):
    """Load and save `ProactiveState` in ``<state_dir>/proactive.db``, on its own worker
    thread: ``async with StateFile(state_dir) as state_file``."""

    thread_name = "lvgw-proactive-state"
    kind = "proactive state"

    def __init__(self, state_dir: Path) -> None:
        super().__init__(state_dir / STATE_NAME)

    def _open_store(self) -> ProactiveFile:
        return ProactiveFile.open(self.path)

    def _error(self, message: str) -> Exception:
        return ProactiveStateError(message)

    async def load(self) -> ProactiveState:
        return await self._call(lambda state_file: state_file.load())

    async def save(self, state: ProactiveState, *, durable: bool = True) -> None:
        """Replace the stored state; with ``durable``, synced to disk before returning."""
        copy = ProactiveState.from_json(state.to_json())  # the caller's may change meanwhile
        await self._call(lambda state_file: state_file.save(copy, durable=durable))
