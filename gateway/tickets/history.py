"""Resolved tickets, for the pre-visit report and the digest ("recent tickets").

The ticket store keeps open tickets only; when the agent resolves one, the resolve
event is recorded here, in the ``tickets_history`` table of
``<state_dir>/ticket-history.db``. The agent's site services (gateway/services.py)
call `record` with every batch of events the pipeline has made durable, so what is
recorded was also sent. Recording is best effort: a history that cannot be written
is logged and never stops ticketing.

`HistoryFile` is the synchronous store over the file (opened by `gateway.sqlite`);
`TicketHistory` is its asyncio face, on its own worker thread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from gateway.model import EventKind, Level, TicketEvent
from gateway.sqlite import AsyncStore, Database, Pragmas, Schema, SchemaError, open_database

HISTORY_NAME = "ticket-history.db"
KEEP = timedelta(days=400)  # older entries are pruned as new ones arrive

# `PRAGMA application_id` marks the file as lvgw's ticket history ("lvgh").
APPLICATION_ID = 0x6C766768

# IF NOT EXISTS: a file from before schema versions already has them.
_VERSION_1 = (
    """CREATE TABLE IF NOT EXISTS tickets_history (
        ticket_id TEXT PRIMARY KEY,
        device TEXT NOT NULL,
        code TEXT NOT NULL,
        instance TEXT NOT NULL,
        severity INTEGER NOT NULL,
        title TEXT NOT NULL,
        occurred_at TEXT NOT NULL,
        resolved_at TEXT NOT NULL,
        acknowledged_by TEXT,
        resolved_ts REAL NOT NULL   -- resolved_at as epoch seconds, for ranges
    )""",
    "CREATE INDEX IF NOT EXISTS tickets_history_resolved ON tickets_history (resolved_ts)",
)
SCHEMA = Schema(
    "ticket history",
    APPLICATION_ID,
    (_VERSION_1,),
    unmarked_tables=frozenset({"tickets_history"}),
)
# A reader (the report) waits this long for the agent's write to finish.
BUSY_TIMEOUT_MS = 2000


class TicketHistoryError(Exception):
    """The ticket history file cannot be read or written."""


@dataclass(frozen=True, slots=True)
class ResolvedTicket:
    ticket_id: str
    device: str
    code: str
    instance: str
    severity: Level
    title: str
    occurred_at: datetime
    resolved_at: datetime
    acknowledged_by: str | None

    @property
    def duration_seconds(self) -> float:
        return (self.resolved_at - self.occurred_at).total_seconds()


class HistoryFile:
    """The history in its file; every call from the thread that opened it."""

    def __init__(self, db: Database) -> None:
        self.path = db.path
        self._db = db

    @classmethod
    def open(cls, path: Path, *, read_only: bool = False) -> HistoryFile:
        """Open (creating on first use, unless ``read_only``) the history at ``path``."""
        try:
            if not read_only:
                path.parent.mkdir(parents=True, exist_ok=True)
            pragmas = Pragmas(busy_timeout_ms=BUSY_TIMEOUT_MS)
            return cls(open_database(path, SCHEMA, pragmas, read_only=read_only))
        except (sqlite3.Error, SchemaError, OSError) as exc:
            raise TicketHistoryError(f"{path}: cannot open the ticket history: {exc}") from exc

    @classmethod
    def in_state_dir(cls, state_dir: Path, *, read_only: bool = False) -> HistoryFile:
        return cls.open(state_dir / HISTORY_NAME, read_only=read_only)

    def close(self) -> None:
        self._db.close()

    def record(self, events: Sequence[TicketEvent]) -> int:
        """Record the resolve events among ``events``; how many."""
        rows: list[tuple[object, ...]] = []
        newest = 0.0
        for e in events:
            if e.event is not EventKind.RESOLVE:
                continue
            resolved = e.resolved_at or e.emitted_at
            newest = max(newest, resolved.timestamp())
            rows.append((
                e.ticket_id, e.device_id, e.fault_code, e.instance, int(e.severity), e.title,
                e.occurred_at.isoformat(), resolved.isoformat(), e.acknowledged_by,
                resolved.timestamp(),
            ))  # fmt: skip
        if rows:
            self._insert(rows, newest - KEEP.total_seconds())
        return len(rows)

    def _insert(self, rows: list[tuple[object, ...]], oldest: float) -> None:
        try:
            with self._db.transaction() as conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO tickets_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                conn.execute("DELETE FROM tickets_history WHERE resolved_ts < ?", (oldest,))
        except sqlite3.Error as exc:
            raise TicketHistoryError(f"{self.path}: cannot record: {exc}") from exc

    def resolved_since(self, since: datetime, device: str | None = None) -> list[ResolvedTicket]:
        """Tickets resolved at or after ``since`` (newest first), of one device or all."""
        query = (
            "SELECT ticket_id, device, code, instance, severity, title, occurred_at,"
            " resolved_at, acknowledged_by FROM tickets_history WHERE resolved_ts >= ?"
            " ORDER BY resolved_ts DESC, ticket_id DESC"
        )
        try:
            rows = self._db.conn.execute(query, (since.timestamp(),)).fetchall()
        except sqlite3.Error as exc:
            raise TicketHistoryError(f"{self.path}: cannot read: {exc}") from exc
        return [
            ResolvedTicket(
                ticket_id, dev, code, instance, Level(severity), title,
                datetime.fromisoformat(occurred), datetime.fromisoformat(resolved), acked,
            )
            for ticket_id, dev, code, instance, severity, title, occurred, resolved, acked in rows
            if device is None or dev == device
        ]  # fmt: skip


class TicketHistory(AsyncStore[HistoryFile]):
    """`HistoryFile` on its worker thread: ``async with TicketHistory(path) as history``."""

    thread_name = "lvgw-ticket-history"
    kind = "ticket history"

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        super().__init__(path)
        self._read_only = read_only

    @classmethod
    def in_state_dir(cls, state_dir: Path, *, read_only: bool = False) -> TicketHistory:
        return cls(state_dir / HISTORY_NAME, read_only=read_only)

    def _open_store(self) -> HistoryFile:
        return HistoryFile.open(self.path, read_only=self._read_only)

    def _error(self, message: str) -> Exception:
        return TicketHistoryError(message)

    async def record(self, events: Sequence[TicketEvent]) -> int:
        """Record the resolve events among ``events`` (one small transaction); how many."""
        if not any(e.event is EventKind.RESOLVE for e in events):
            return 0
        batch = list(events)
        return await self._call(lambda history: history.record(batch))

    async def resolved_since(
        self, since: datetime, device: str | None = None
    ) -> list[ResolvedTicket]:
        """Tickets resolved at or after ``since`` (newest first), of one device or all."""
        return await self._call(lambda history: history.resolved_since(since, device))
