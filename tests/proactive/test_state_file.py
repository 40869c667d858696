"""proactive.db: the jobs' memory survives a restart, an older file migrates in place,
and a file that is not it is refused rather than started afresh."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.proactive.errors import ProactiveStateError
from gateway.proactive.state import APPLICATION_ID, STATE_NAME, ProactiveState, StateFile
from tests.sqlite.files import header

STATE = ProactiveState(
    last_run={"digest": datetime(2026, 4, 6, 2, 0, tzinfo=UTC)},
    inspection_due="2026-07-01",
    expiry_notices=["2026-12-31"],
    digest_day="2026-04-06",
)


async def test_a_saved_state_is_loaded_after_a_restart(tmp_path: Path) -> None:
    async with StateFile(tmp_path) as state_file:
        assert await state_file.load() == ProactiveState()  # nothing saved yet
        await state_file.save(STATE)
        await state_file.save(STATE, durable=False)
    assert [t for t in threading.enumerate() if t.name == StateFile.thread_name] == []
    async with StateFile(tmp_path) as again:
        assert await again.load() == STATE
    assert header(tmp_path / STATE_NAME) == (APPLICATION_ID, 1)


async def test_a_file_of_the_previous_version_opens_and_keeps_its_state(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / STATE_NAME)  # as lvgw wrote it before schema versions
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE proactive_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("INSERT INTO proactive_state VALUES ('state', ?)", (json.dumps(STATE.to_json()),))
    conn.commit()
    conn.close()
    async with StateFile(tmp_path) as state_file:
        assert await state_file.load() == STATE
    assert header(tmp_path / STATE_NAME) == (APPLICATION_ID, 1)


async def test_another_database_is_refused_by_name(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / STATE_NAME)
    conn.execute("CREATE TABLE customers (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(ProactiveStateError, match="not an lvgw proactive state"):
        await StateFile(tmp_path).open()


async def test_an_unreadable_state_is_refused_not_replaced(tmp_path: Path) -> None:
    async with StateFile(tmp_path) as state_file:
        await state_file.save(STATE)
    conn = sqlite3.connect(tmp_path / STATE_NAME)
    conn.execute("UPDATE proactive_state SET value = '{\"version\": 99}'")
    conn.commit()
    conn.close()
    async with StateFile(tmp_path) as state_file:
        with pytest.raises(ProactiveStateError, match="not a valid proactive state"):
            await state_file.load()
