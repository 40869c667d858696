"""Ticket state on disk.

The open tickets are records in the outbox's file (`ticket_records`,
`tickets_from_records`): a decision's ticket state and its events are written in one
transaction, one fsync (gateway/pipeline.py), so neither is ever on disk without the
other and a restart never re-opens a ticket that is open.

Earlier versions kept them in ``tickets.db`` with a journal of events not yet in the
outbox (saved there first, then put in the outbox, then dropped from the journal).
`TicketFile` (synchronous) and `TicketStore` (its asyncio face on a worker thread of
`gateway.sqlite`) read and write that file; the gateway reads it once at start to move
its tickets and any journal entries into the outbox (`gateway.pipeline.load_tickets`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gateway.sqlite import AsyncStore, Database, Schema, SchemaError, open_database
from gateway.tickets.state import OpenTicket

# `PRAGMA application_id` marks the file as an lvgw ticket store ("lvgt").
APPLICATION_ID = 0x6C766774

# IF NOT EXISTS: a file from before schema versions already has these tables.
_VERSION_1 = (
    """CREATE TABLE IF NOT EXISTS tickets (
        ticket_id TEXT PRIMARY KEY,
        body TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS journal (
        event_id TEXT PRIMARY KEY,
        seqno INTEGER NOT NULL,
        topic TEXT NOT NULL,
        payload BLOB NOT NULL
    )""",
)

SCHEMA = Schema(
    "ticket store", APPLICATION_ID, (_VERSION_1,), unmarked_tables=frozenset({"tickets", "journal"})
)

# Events as the journal keeps them: (event_id, topic, payload).
JournalEntry = tuple[str, str, bytes]

# The outbox's records of open tickets: RECORD_PREFIX + ticket id -> the ticket's JSON.
RECORD_PREFIX = "ticket/"


def ticket_records(changed: Iterable[OpenTicket], closed: Iterable[str]) -> dict[str, str | None]:
    """Records for the outbox: changed tickets written, closed ones deleted (None)."""
    out: dict[str, str | None] = {
        RECORD_PREFIX + t.ticket_id: json.dumps(t.to_json()) for t in changed
    }
    out.update({RECORD_PREFIX + ticket_id: None for ticket_id in closed})
    return out


def tickets_from_records(records: Mapping[str, str]) -> list[OpenTicket]:
    """The open tickets in the outbox's records (those under RECORD_PREFIX)."""
    try:
        return [
            OpenTicket.from_json(json.loads(body))
            for key, body in records.items()
            if key.startswith(RECORD_PREFIX)
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise TicketStoreError(f"a stored ticket cannot be read: {exc!r}") from exc


class TicketStoreError(Exception):
    """The ticket state file cannot be read or written."""


class TicketFile:
    """The ticket state in ``tickets.db``; every call from the thread that opened it.

    Every commit is FULL (fsynced): a decision is durable before its events leave.
    """

    def __init__(self, db: Database) -> None:
        self.path = db.path
        self._db = db
        self._seqno = int(
            db.conn.execute("SELECT COALESCE(MAX(seqno), 0) FROM journal").fetchone()[0]
        )

    @classmethod
    def open(cls, path: Path) -> TicketFile:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = open_database(path, SCHEMA)  # synchronous=FULL
        except (sqlite3.Error, SchemaError, OSError) as exc:
            raise TicketStoreError(f"{path}: cannot open the ticket state: {exc}") from exc
        try:
            return cls(db)
        except sqlite3.Error as exc:
            db.close()
            raise TicketStoreError(f"{path}: cannot read the ticket state: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def load(self) -> list[OpenTicket]:
        rows = self._read("SELECT body FROM tickets")
        return [OpenTicket.from_json(json.loads(body)) for (body,) in rows]

    def journal(self) -> list[JournalEntry]:
        """Events decided but maybe not yet in the outbox, oldest first."""
        rows = self._read("SELECT event_id, topic, payload FROM journal ORDER BY seqno")
        return [(event_id, topic, bytes(payload)) for event_id, topic, payload in rows]

    def save(
        self,
        changed: Sequence[OpenTicket],
        closed: Iterable[str],
        events: Sequence[JournalEntry],
    ) -> None:
        """Store ticket changes and their events in one durable transaction."""
        seqno = self._seqno
        rows = []
        for event_id, topic, payload in events:
            seqno += 1
            rows.append((event_id, seqno, topic, payload))
        try:
            with self._db.transaction() as conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO tickets (ticket_id, body) VALUES (?, ?)",
                    [(t.ticket_id, json.dumps(t.to_json())) for t in changed],
                )
                conn.executemany("DELETE FROM tickets WHERE ticket_id = ?", [(t,) for t in closed])
                conn.executemany("INSERT INTO journal VALUES (?, ?, ?, ?)", rows)
        except sqlite3.Error as exc:
            raise TicketStoreError(f"{self.path}: cannot save ticket state: {exc}") from exc
        self._seqno = seqno  # only once committed

    def forget(self, event_ids: Sequence[str]) -> None:
        """The outbox holds these events now: drop them from the journal."""
        try:
            with self._db.transaction() as conn:
                conn.executemany(
                    "DELETE FROM journal WHERE event_id = ?", [(e,) for e in event_ids]
                )
        except sqlite3.Error as exc:
            raise TicketStoreError(f"{self.path}: cannot update the journal: {exc}") from exc

    def _read(self, query: str) -> list[Any]:
        try:
            return self._db.conn.execute(query).fetchall()
        except sqlite3.Error as exc:
            raise TicketStoreError(f"{self.path}: cannot read the ticket state: {exc}") from exc


class TicketStore(AsyncStore[TicketFile]):
    """`TicketFile` on its worker thread: ``async with TicketStore(path) as store``."""

    thread_name = "lvgw-ticket-store"
    kind = "ticket store"

    def _open_store(self) -> TicketFile:
        return TicketFile.open(self.path)

    def _error(self, message: str) -> Exception:
        return TicketStoreError(message)

    async def load(self) -> list[OpenTicket]:
        """The open tickets on file."""
        return await self._call(lambda tickets: tickets.load())

    async def journal(self) -> list[JournalEntry]:
        """Events decided but maybe not yet in the outbox, oldest first."""
        return await self._call(lambda tickets: tickets.journal())

    async def save(
        self,
        changed: Sequence[OpenTicket],
        closed: Iterable[str],
        events: Sequence[JournalEntry],
    ) -> None:
        """Store ticket changes and their events in one durable transaction."""
        changed, closed, events = list(changed), list(closed), list(events)
        await self._call(lambda tickets: tickets.save(changed, closed, events))

    async def journal_done(self, event_ids: Sequence[str]) -> None:
        """The outbox holds these events now."""
        done = list(event_ids)
        await self._call(lambda tickets: tickets.forget(done))
