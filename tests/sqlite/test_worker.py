"""`Worker`: one thread owns the connection; async callers await their jobs on it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.sqlite import Schema, Worker, WorkerStoppedError, open_database

SCHEMA = Schema("test store", 0x6C767474, (("CREATE TABLE items (name TEXT PRIMARY KEY)",),))


def named(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name]


class Owned:
    """A store on a connection that may only be used from the thread that opened it."""

    def __init__(self, path: Path) -> None:
        self.db = open_database(path, SCHEMA)  # sqlite3 checks the thread from now on
        self.thread = threading.get_ident()
        self.closed = 0

    def close(self) -> None:
        assert threading.get_ident() == self.thread
        self.closed += 1
        self.db.close()


def worker_on(
    path: Path,
    name: str = "lvgw-test-worker",
    idle: Callable[[Owned], object] | None = None,
    idle_seconds: float = 1.0,
) -> Worker[Owned]:
    return Worker(
        name, open=lambda: Owned(path), close=Owned.close, idle=idle, idle_seconds=idle_seconds
    )


def insert(name: str) -> Callable[[Owned], object]:
    return lambda store: store.db.conn.execute("INSERT INTO items VALUES (?)", (name,))


async def test_jobs_run_in_order_on_the_thread_that_opened_the_file(tmp_path: Path) -> None:
    worker = worker_on(tmp_path / "w.db")
    await worker.start()
    try:
        for n in range(20):
            worker.post(insert(str(n)), "an insert")
        names = await worker.call(
            lambda s: [r[0] for r in s.db.conn.execute("SELECT name FROM items ORDER BY rowid")]
        )
        owner = await worker.call(lambda s: s.thread)
    finally:
        await worker.stop()
    assert names == [str(n) for n in range(20)]
    assert owner != threading.get_ident()


async def test_an_exception_in_a_statement_reaches_the_awaiting_caller(tmp_path: Path) -> None:
    worker = worker_on(tmp_path / "e.db")
    await worker.start()
    try:
        await worker.call(lambda s: s.db.conn.execute("INSERT INTO items VALUES ('a')"))
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            await worker.call(lambda s: s.db.conn.execute("INSERT INTO items VALUES ('a')"))
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            await worker.call(lambda s: s.db.conn.execute("SELECT * FROM nowhere"))
        # and the worker carries on
        assert (
            await worker.call(
                lambda s: s.db.conn.execute("SELECT count(*) FROM items").fetchone()[0]
            )
            == 1
        )
    finally:
        await worker.stop()


async def test_stop_runs_queued_jobs_closes_once_and_joins_the_thread(tmp_path: Path) -> None:
    opened: list[Owned] = []

    def open_() -> Owned:
        opened.append(Owned(tmp_path / "s.db"))
        return opened[-1]

    worker: Worker[Owned] = Worker("lvgw-test-stop", open=open_, close=Owned.close)
    await worker.start()
    assert len(named("lvgw-test-stop")) == 1
    worker.post(lambda s: s.db.conn.execute("INSERT INTO items VALUES ('last')"), "an insert")
    await worker.stop()
    assert named("lvgw-test-stop") == []
    assert opened[0].closed == 1
    await worker.stop()  # a second stop is harmless
    assert opened[0].closed == 1
    with pytest.raises(WorkerStoppedError, match="stopped"):
        await worker.call(lambda s: None)
    with pytest.raises(WorkerStoppedError, match="stopped"):
        worker.post(lambda s: None, "late")
    conn = sqlite3.connect(tmp_path / "s.db")
    assert conn.execute("SELECT name FROM items").fetchall() == [("last",)]  # ran before close
    conn.close()


async def test_a_failing_open_raises_and_leaves_no_thread(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database\n" * 300)
    worker = worker_on(bad, "lvgw-test-bad")
    with pytest.raises(sqlite3.DatabaseError):
        await worker.start()
    assert named("lvgw-test-bad") == []
    with pytest.raises(WorkerStoppedError):
        await worker.call(lambda s: None)
    await worker.stop()  # nothing to do, and no hang


async def test_use_before_start_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WorkerStoppedError, match="not started"):
        await worker_on(tmp_path / "n.db").call(lambda s: None)


async def test_a_failing_close_reaches_stop_and_the_thread_still_ends(tmp_path: Path) -> None:
    def close(store: Owned) -> None:
        store.db.close()
        raise OSError("disk gone")

    worker: Worker[Owned] = Worker(
        "lvgw-test-close", open=lambda: Owned(tmp_path / "c.db"), close=close
    )
    await worker.start()
    with pytest.raises(OSError, match="disk gone"):
        await worker.stop()
    assert named("lvgw-test-close") == []


async def test_a_failing_post_is_logged_and_the_worker_carries_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    worker = worker_on(tmp_path / "p.db", "lvgw-test-post")
    await worker.start()
    try:
        with caplog.at_level("ERROR", logger="gateway.sqlite"):
            worker.post(lambda s: s.db.conn.execute("SELECT * FROM nowhere"), "a bad query")
            assert await worker.call(lambda s: 42) == 42
    finally:
        await worker.stop()
    assert "lvgw-test-post: a bad query failed" in caplog.text
    assert "no such table" in caplog.text


async def test_a_call_cancelled_before_it_started_is_skipped(tmp_path: Path) -> None:
    worker = worker_on(tmp_path / "x.db")
    await worker.start()
    release = threading.Event()
    ran: list[str] = []
    try:
        busy = asyncio.ensure_future(worker.call(lambda s: release.wait(10)))
        await asyncio.sleep(0)  # queued behind nothing: it starts at once
        skipped = asyncio.ensure_future(worker.call(lambda s: ran.append("skipped")))
        await asyncio.sleep(0)
        skipped.cancel()
        with pytest.raises(asyncio.CancelledError):
            await skipped
        await asyncio.sleep(0)  # the cancel has reached the job before the worker is free
        release.set()
        assert await busy
        await worker.call(lambda s: ran.append("later"))
    finally:
        await worker.stop()
    assert ran == ["later"]


async def test_idle_work_runs_when_no_job_comes(tmp_path: Path) -> None:
    ticked = threading.Event()
    worker = worker_on(tmp_path / "i.db", idle=lambda s: ticked.set(), idle_seconds=0.01)
    await worker.start()
    try:
        assert await asyncio.to_thread(ticked.wait, 5)
    finally:
        await worker.stop()
