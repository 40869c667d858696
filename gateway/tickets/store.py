"""Ticket state on disk: open tickets and a journal of events not yet in the outbox.

A decision is saved here first (ticket state and its new events, one fsync'd
transaction), then the events are put in the outbox, then the journal entries are
removed. A crash between the two steps replays the journal at the next start: an
event may be delivered twice (consumers deduplicate on ``event_id``), never lost, and
a restart never re-opens a ticket that is open.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from gateway.tickets.state import OpenTicket

SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS journal (
    event_id TEXT PRIMARY KEY,
    seqno INTEGER NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL
);
"""


class TicketStoreError(Exception):
    """The ticket state file cannot be read or written."""


class TicketStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise TicketStoreError(f"{path}: cannot open the ticket state: {exc}") from exc
        self._seqno = self._db.execute("SELECT COALESCE(MAX(seqno), 0) FROM journal").fetchone()[0]

    def load(self) -> list[OpenTicket]:
        rows = self._db.execute("SELECT body FROM tickets").fetchall()
        return [OpenTicket.from_json(json.loads(body)) for (body,) in rows]

    def journal(self) -> list[tuple[str, str, bytes]]:
        """Events decided but maybe not yet in the outbox, oldest first."""
        rows = self._db.execute("SELECT event_id, topic, payload FROM journal ORDER BY seqno")
        return [(event_id, topic, bytes(payload)) for event_id, topic, payload in rows]

    def _save(
        self,
        changed: Sequence[OpenTicket],
        closed: Iterable[str],
        events: Sequence[tuple[str, str, bytes]],
    ) -> None:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT OR REPLACE INTO tickets (ticket_id, body) VALUES (?, ?)",
                    [(t.ticket_id, json.dumps(t.to_json())) for t in changed],
                )
                self._db.executemany(
                    "DELETE FROM tickets WHERE ticket_id = ?", [(t,) for t in closed]
                )
                rows = []
                for event_id, topic, payload in events:
                    self._seqno += 1
                    rows.append((event_id, self._seqno, topic, payload))
                self._db.executemany("INSERT INTO journal VALUES (?, ?, ?, ?)", rows)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise TicketStoreError(f"{self.path}: cannot save ticket state: {exc}") from exc

    async def save(
        self,
        changed: Sequence[OpenTicket],
        closed: Iterable[str],
        events: Sequence[tuple[str, str, bytes]],
    ) -> None:
        """Store ticket changes and their events in one durable transaction."""
        closed = list(closed)
        await asyncio.to_thread(self._save, changed, closed, events)

    def _forget(self, event_ids: Sequence[str]) -> None:
        with self._lock:
            self._db.executemany(
                "DELETE FROM journal WHERE event_id = ?", [(e,) for e in event_ids]
            )

    async def journal_done(self, event_ids: Sequence[str]) -> None:
        """The outbox holds these events now."""
        await asyncio.to_thread(self._forget, list(event_ids))

    def close(self) -> None:
        with self._lock:
            self._db.close()
