"""`MetricStore`, the asyncio face of the embedded store, and its worker thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.metrics.store.errors import StoreClosedError, StoreCorruptError, StoreError
from gateway.metrics.store.metric_store import WORKER_THREAD_NAME, MetricStore
from gateway.metrics.store.types import Resolution, StoreConfig
from gateway.model import Reading
from tests.metrics.test_store_support import Clock, at

T0 = 1_760_000_400


def workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == WORKER_THREAD_NAME]


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
async def store(tmp_path: Path, clock: Clock) -> AsyncIterator[MetricStore]:
    async with MetricStore(tmp_path / "metrics.db", clock=clock) as opened:
        yield opened


async def test_add_then_query_through_the_worker(store: MetricStore, clock: Clock) -> None:
    assert len(workers()) == 1
    for n in range(10):
        clock.now = T0 + 30 * n
        await store.add([Reading("ups-1", "load", float(n), at(clock.now), instance="")])
    latest = await store.latest("ups-1", "load")
    assert latest is not None and (latest.ts, latest.last) == (at(T0 + 270), 9.0)
    got = await store.series("ups-1", "load", None, at(T0), at(clock.now))
    assert got.resolution is Resolution.RAW
    assert [s.last for s in got] == [float(n) for n in range(10)]
    minutes = await store.series("ups-1", "load", None, at(T0), at(clock.now), timedelta(minutes=5))
    assert [(s.count, s.min, s.max) for s in minutes] == [(10, 0.0, 9.0)]
    assert await store.devices() == ["ups-1"]
    assert await store.points("ups-1") == ["load"]
    assert await store.instances("ups-1", "load") == [""]
    assert await store.flush() > 0  # some were flushed already: the clock moved 270 s
    stats = await store.stats()
    assert (stats.stored, stats.buffered) == (10, 0)


async def test_close_flushes_and_joins_the_worker(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "metrics.db"
    config = StoreConfig(flush_interval=timedelta(hours=1))
    store = await MetricStore(path, config=config, clock=clock).open()
    await store.add([Reading("ups-1", "load", 1.0, at(T0))])
    assert (await store.stats()).buffered == 1
    await store.close()
    assert workers() == []
    await store.close()  # twice is fine
    with pytest.raises(StoreClosedError):
        await store.add([Reading("ups-1", "load", 2.0, at(T0))])
    with pytest.raises(StoreClosedError):
        await store.latest("ups-1", "load")
    async with MetricStore(path, clock=clock, read_only=True) as reader:
        latest = await reader.latest("ups-1", "load")
        assert latest is not None and latest.last == 1.0


async def test_the_worker_flushes_by_the_clock_when_no_one_adds(
    tmp_path: Path, clock: Clock
) -> None:
    path = tmp_path / "metrics.db"
    async with MetricStore(path, clock=clock, tick_seconds=0.01) as store:
        await store.add([Reading("ups-1", "load", 1.0, at(T0))])
        assert (await store.stats()).flushes == 0
        clock.now = T0 + 61  # past the 60 s flush interval: the next tick flushes
        for _ in range(500):
            if (await store.stats()).flushes:
                break
            await asyncio.sleep(0.01)
        stats = await store.stats()
        assert (stats.flushes, stats.buffered) == (1, 0)


async def test_add_never_waits_for_a_busy_worker(tmp_path: Path, clock: Clock) -> None:
    config = StoreConfig(max_buffered_samples=5)
    async with MetricStore(tmp_path / "metrics.db", config=config, clock=clock) as store:
        release = threading.Event()
        # Keep the worker busy the way a slow disk would.
        busy = asyncio.ensure_future(store._call(lambda _: release.wait(10)))
        try:
            for n in range(4):
                await asyncio.wait_for(
                    store.add([Reading("ups-1", "load", float(n), at(T0)) for _ in range(2)]),
                    timeout=1,
                )
        finally:
            release.set()
            await busy
        stats = await store.stats()
        # Two batches of two fit in the 5 samples that may wait; the others were dropped.
        assert stats.dropped == {"overflow": 4}
        assert stats.buffered == 1  # same series, same second: the last one stands


async def test_a_cancelled_query_leaves_the_store_working(store: MetricStore) -> None:
    await store.add([Reading("ups-1", "load", 1.0, at(T0))])
    query = asyncio.ensure_future(store.latest("ups-1", "load"))
    query.cancel()
    with pytest.raises(asyncio.CancelledError):
        await query
    assert (await store.latest("ups-1", "load")) is not None


async def test_opening_a_file_that_is_not_a_store_fails_without_a_thread_left(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not SQLite " * 100)
    store = MetricStore(bad)
    with pytest.raises(StoreCorruptError):
        await store.open()
    assert workers() == []
    with pytest.raises(StoreClosedError):
        await store.devices()


async def test_opening_twice_is_refused(store: MetricStore) -> None:
    with pytest.raises(StoreError, match="already open"):
        await store.open()


async def test_a_bad_batch_is_logged_and_the_worker_carries_on(
    store: MetricStore, caplog: pytest.LogCaptureFixture
) -> None:
    naive = datetime(2026, 1, 1)  # no tzinfo: the caller's bug under test
    with caplog.at_level("ERROR", logger="gateway.metrics.store"):
        await store.add([Reading("ups-1", "load", 1.0, naive)])
        await store.add([Reading("ups-1", "load", 2.0, at(T0))])
        latest = await store.latest("ups-1", "load")
    assert latest is not None and latest.last == 2.0
    assert "refused 1 readings" in caplog.text
