"""The ticket store's file: one from before schema versions opens and migrates; the
worker thread closes cleanly; errors name the file."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.model import Level
from gateway.tickets.state import OpenTicket
from gateway.tickets.store import APPLICATION_ID, TicketStore, TicketStoreError
from tests.sqlite.files import header

# The file as lvgw wrote it before gateway/sqlite: no application id, user_version 0.
PREVIOUS_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (ticket_id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (
    event_id TEXT PRIMARY KEY, seqno INTEGER NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL
);
"""

TICKET = OpenTicket(
    ticket_id="T-1",
    device="sw-1",
    code="device.unreachable",
    instance="",
    level=Level.L1,
    title="sw-1 unreachable",
    opened_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    seq=1,
)


def previous_version_file(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(PREVIOUS_SCHEMA)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("INSERT INTO tickets VALUES (?, ?)", ("T-1", json.dumps(TICKET.to_json())))
    conn.execute("INSERT INTO journal VALUES ('e1', 1, 'lvgw/s/tickets', x'7b7d')")
    conn.commit()
    conn.close()


async def test_a_file_of_the_previous_version_opens_and_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "tickets.db"
    previous_version_file(path)
    async with TicketStore(path) as store:
        assert [t.ticket_id for t in await store.load()] == ["T-1"]
        assert await store.journal() == [("e1", "lvgw/s/tickets", b"{}")]
        await store.save([], [], [("e2", "lvgw/s/tickets", b"[]")])
        assert [e for e, _, _ in await store.journal()] == ["e1", "e2"]  # seqno continues
    assert header(path) == (APPLICATION_ID, 1)


async def test_another_database_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "tickets.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(TicketStoreError, match=f"{path}: .*not an lvgw ticket store"):
        await TicketStore(path).open()


async def test_close_joins_the_worker_and_later_use_is_refused(tmp_path: Path) -> None:
    store = await TicketStore(tmp_path / "state" / "tickets.db").open()  # makes the directory
    assert [t for t in threading.enumerate() if t.name == TicketStore.thread_name]
    await store.save([TICKET], [], [])
    await store.close()
    assert [t for t in threading.enumerate() if t.name == TicketStore.thread_name] == []
    with pytest.raises(TicketStoreError, match="closed"):
        await store.load()
    async with TicketStore(tmp_path / "state" / "tickets.db") as again:
        assert [t.ticket_id for t in await again.load()] == ["T-1"]


async def test_a_failed_save_changes_nothing_and_reaches_the_caller(tmp_path: Path) -> None:
    async with TicketStore(tmp_path / "tickets.db") as store:
        await store.save([TICKET], [], [("e1", "t", b"x")])
        with pytest.raises(TicketStoreError, match="cannot save ticket state: UNIQUE"):
            await store.save([], ["T-1"], [("e2", "t", b"y"), ("e1", "t", b"again")])
        assert [t.ticket_id for t in await store.load()] == ["T-1"]  # rolled back as a whole
        assert await store.journal() == [("e1", "t", b"x")]
