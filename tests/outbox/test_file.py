"""The file: creation, refusing what is not an outbox, closing, giving space back."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from gateway.outbox import (
    MessageClass,
    Outbox,
    OutboxClosedError,
    OutboxCorruptError,
    OutboxError,
)
from gateway.outbox.outbox import WORKER_THREAD_NAME
from gateway.outbox.schema import SCHEMA_VERSION
from tests.outbox.messages import metric, ticket


def _outbox_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(WORKER_THREAD_NAME)]


async def test_a_new_file_is_created_in_wal_mode_with_a_schema_version(db_path: Path) -> None:
    async with Outbox(db_path) as outbox:
        await outbox.put(ticket(1))
        conn = sqlite3.connect(db_path)
        try:
            pragmas = {
                name: conn.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("journal_mode", "auto_vacuum", "user_version")
            }
            stored = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        finally:
            conn.close()
    assert pragmas == {"journal_mode": "wal", "auto_vacuum": 2, "user_version": SCHEMA_VERSION}
    assert stored == 1  # committed where another reader sees it, before put returned


async def test_a_file_that_is_not_sqlite_is_refused_by_name(db_path: Path) -> None:
    db_path.write_bytes(b"this is a text file, not a database\n" * 200)  # noqa: ASYNC240
    with pytest.raises(OutboxCorruptError, match=str(db_path)):
        await Outbox(db_path).open()
    assert db_path.read_bytes().startswith(b"this is a text")  # noqa: ASYNC240
    assert _outbox_threads() == []


async def test_another_sqlite_database_is_refused(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE customers (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(OutboxCorruptError, match="not an lvgw outbox"):
        await Outbox(db_path).open()


async def test_an_outbox_from_a_newer_version_is_refused(db_path: Path) -> None:
    async with Outbox(db_path):
        pass
    conn = sqlite3.connect(db_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(OutboxCorruptError, match="newer lvgw"):
        await Outbox(db_path).open()


async def test_a_missing_directory_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "no-such-dir" / "outbox.db"
    with pytest.raises(OutboxError, match=str(path)):
        await Outbox(path).open()


async def test_close_joins_the_worker_and_later_use_is_refused(db_path: Path) -> None:
    outbox = await Outbox(db_path).open()
    assert len(_outbox_threads()) == 1
    await outbox.close()
    assert _outbox_threads() == []
    await outbox.close()  # a second close is harmless
    with pytest.raises(OutboxClosedError):
        await outbox.put(ticket(1))
    with pytest.raises(OutboxClosedError):
        await outbox.pending()


async def test_use_before_open_is_refused(db_path: Path) -> None:
    with pytest.raises(OutboxError, match="not open"):
        await Outbox(db_path).put(ticket(1))


async def test_the_file_shrinks_once_a_long_backlog_drains(db_path: Path) -> None:
    async with Outbox(db_path, compact_min_bytes=256 * 1024) as outbox:
        await outbox.put_many(metric(n, size=1000) for n in range(4000))
        full_size = (await outbox.stats()).disk_bytes
        while batch := await outbox.pending(500, classes=[MessageClass.METRIC]):
            await outbox.ack(m.id for m in batch)
        drained_size = (await outbox.stats()).disk_bytes
    assert full_size > 4_000_000
    assert drained_size < full_size / 4
    assert db_path.stat().st_size < full_size / 4  # noqa: ASYNC240


async def test_a_damaged_outbox_is_refused_by_name(db_path: Path) -> None:
    async with Outbox(db_path) as outbox:
        await outbox.put_many(ticket(n, size=500) for n in range(200))
    with db_path.open("r+b") as damaged:
        damaged.seek(4096 * 3)  # past the header and the schema: into the messages
        damaged.write(b"\xff" * 4096 * 4)
    with pytest.raises(OutboxCorruptError, match=f"{db_path}: not an lvgw outbox or damaged"):
        await Outbox(db_path).open()
