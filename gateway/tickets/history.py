"""Resolved tickets, for the pre-visit report and the digest ("recent tickets").

The ticket store keeps open tickets only; when the agent resolves one, the resolve
event is recorded here, in the ``tickets_history`` table of
``<state_dir>/ticket-history.db``. The agent's site services (gateway/services.py)
call `record` with every batch of events the pipeline has made durable, so what is
recorded was also sent. Recording is best effort: a history that cannot be written
is logged and never stops ticketing.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from gateway.model import EventKind, Level, TicketEvent

HISTORY_NAME = "ticket-history.db"
KEEP = timedelta(days=400)  # older entries are pruned as new ones arrive

SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets_history (
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
);
CREATE INDEX IF NOT EXISTS tickets_history_resolved ON tickets_history (resolved_ts);
"""


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


class TicketHistory:
    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            if read_only:
                self._db = sqlite3.connect(
                    f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
                )
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.executescript(SCHEMA)
            self._db.execute("PRAGMA busy_timeout = 2000")
        except sqlite3.Error as exc:
            raise TicketHistoryError(f"{path}: cannot open the ticket history: {exc}") from exc

    @classmethod
    def in_state_dir(cls, state_dir: Path, *, read_only: bool = False) -> TicketHistory:
        return cls(state_dir / HISTORY_NAME, read_only=read_only)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _insert(self, rows: list[tuple[object, ...]], oldest: float) -> None:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT OR REPLACE INTO tickets_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                self._db.execute("DELETE FROM tickets_history WHERE resolved_ts < ?", (oldest,))
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise TicketHistoryError(f"{self.path}: cannot record: {exc}") from exc

    def record_now(self, events: Sequence[TicketEvent]) -> int:
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

    async def record(self, events: Sequence[TicketEvent]) -> None:
        """`record_now` off the event loop (one small transaction)."""
        if any(e.event is EventKind.RESOLVE for e in events):
            await asyncio.to_thread(self.record_now, list(events))

    def resolved_since(self, since: datetime, device: str | None = None) -> list[ResolvedTicket]:
        """Tickets resolved at or after ``since`` (newest first), of one device or all."""
        query = (
            "SELECT ticket_id, device, code, instance, severity, title, occurred_at,"
            " resolved_at, acknowledged_by FROM tickets_history WHERE resolved_ts >= ?"
            " ORDER BY resolved_ts DESC, ticket_id DESC"
        )
        with self._lock:
            try:
                rows = self._db.execute(query, (since.timestamp(),)).fetchall()
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
