"""ticket-history.db: recorded on its worker thread, read by the report read-only, and a
file of the previous version migrates in place."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.model import EventKind, Level, TicketEvent
from gateway.tickets.history import (
    APPLICATION_ID,
    HISTORY_NAME,
    HistoryFile,
    TicketHistory,
    TicketHistoryError,
)
from tests.sqlite.files import header

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def event(kind: EventKind, ticket: str, resolved: datetime | None = None) -> TicketEvent:
    return TicketEvent(
        f"e-{ticket}-{kind.value}", kind, ticket, 2, Level.L3, "Port 7 is down", "sw-1",
        "switch", "port.down", T0, resolved or T0, T0 + timedelta(hours=4), None,
        instance="7", resolved_at=resolved,
    )  # fmt: skip


async def test_resolves_are_recorded_and_read_back_newest_first(tmp_path: Path) -> None:
    async with TicketHistory.in_state_dir(tmp_path) as history:
        assert await history.record([event(EventKind.OPEN, "t-1")]) == 0  # not a resolve
        await history.record([event(EventKind.RESOLVE, "t-1", T0 + timedelta(hours=1))])
        await history.record([event(EventKind.RESOLVE, "t-2", T0 + timedelta(hours=2))])
        found = await history.resolved_since(T0 + timedelta(minutes=30))
    assert [r.ticket_id for r in found] == ["t-2", "t-1"]
    assert found[0].duration_seconds == 7200
    async with TicketHistory.in_state_dir(tmp_path, read_only=True) as report:
        assert [r.ticket_id for r in await report.resolved_since(T0, device="sw-1")] == [
            "t-2",
            "t-1",
        ]
        assert await report.resolved_since(T0, device="other") == []


async def test_a_file_of_the_previous_version_migrates_when_the_agent_opens_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / HISTORY_NAME
    conn = sqlite3.connect(path)  # as lvgw wrote it before schema versions
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE tickets_history (ticket_id TEXT PRIMARY KEY, device TEXT NOT NULL,"
        " code TEXT NOT NULL, instance TEXT NOT NULL, severity INTEGER NOT NULL,"
        " title TEXT NOT NULL, occurred_at TEXT NOT NULL, resolved_at TEXT NOT NULL,"
        " acknowledged_by TEXT, resolved_ts REAL NOT NULL)"
    )
    conn.execute(
        "INSERT INTO tickets_history VALUES ('t-0', 'sw-1', 'port.down', '7', 3, 'old', ?, ?,"
        " NULL, ?)",
        (T0.isoformat(), T0.isoformat(), T0.timestamp()),
    )
    conn.commit()
    conn.close()
    # A reader never migrates: it says so, naming the file.
    with pytest.raises(TicketHistoryError, match=f"{path}: .*needs migrating"):
        await TicketHistory(path, read_only=True).open()
    history = HistoryFile.open(path)  # the agent's open migrates it
    try:
        assert [r.ticket_id for r in history.resolved_since(T0)] == ["t-0"]
    finally:
        history.close()
    assert header(path) == (APPLICATION_ID, 1)


async def test_a_missing_history_is_not_created_by_a_reader(tmp_path: Path) -> None:
    with pytest.raises(TicketHistoryError, match="no ticket history there"):
        await TicketHistory.in_state_dir(tmp_path, read_only=True).open()
    assert not (tmp_path / HISTORY_NAME).exists()
