"""The embedded metric store for the asyncio side: history on the box, no server needed.

`MetricStore` runs the synchronous core (`SeriesStore`) on a `gateway.sqlite.Worker`:
one thread owns the SQLite file, so a commit waiting on an SD card, or a maintenance
step, never stalls the event loop. `add` only hands the readings over and returns at
once: the poller never waits for the disk. Queries are awaited. When no job came for
a second the worker lets the core flush or maintain if the clock says so. ``close()``
flushes, closes the file and joins the thread. See docs/embedded-store.md.

    async with MetricStore(path) as store:
        await store.add(readings)
        sample = await store.latest("ups-1", "battery.voltage")
        week = await store.series("ups-1", "battery.voltage", None, start, end)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

from gateway.metrics.store.core import SeriesStore
from gateway.metrics.store.errors import StoreClosedError, StoreError
from gateway.metrics.store.types import Clock, Sample, Series, StoreConfig, StoreStats
from gateway.model import Reading
from gateway.sqlite import AsyncStore, Worker

log = logging.getLogger("gateway.metrics.store")

T = TypeVar("T")

WORKER_THREAD_NAME = "lvgw-metric-store"
# How often (real seconds) the idle worker looks at the clock for a due flush or
# maintenance; the clock itself decides, so tests with a fake clock are unaffected.
TICK_SECONDS = 1.0


class MetricStore(AsyncStore[SeriesStore]):
    """The embedded store, driven from one asyncio loop."""

    thread_name = WORKER_THREAD_NAME
    kind = "metric store"

    def __init__(
        self,
        path: Path | str,
        *,
        config: StoreConfig | None = None,
        clock: Clock = time.time,
        read_only: bool = False,
        tick_seconds: float = TICK_SECONDS,
    ) -> None:
        super().__init__(path)
        self.config = config or StoreConfig()
        self._clock = clock
        self._read_only = read_only
        self._tick_seconds = tick_seconds
        # Samples handed over but not yet buffered by the worker, bounded like the buffer.
        self._queued = 0
        self._queued_lock = threading.Lock()
        self._queue_dropped = 0

    def _open_store(self) -> SeriesStore:
        return SeriesStore.open(
            self.path, config=self.config, clock=self._clock, read_only=self._read_only
        )

    def _make_worker(self) -> Worker[SeriesStore]:
        # When idle, the core flushes or maintains if its clock says that is due.
        return Worker(
            self.thread_name,
            open=self._open_store,
            close=SeriesStore.close,
            idle=SeriesStore.tick,
            idle_seconds=self._tick_seconds,
            logger=log,
        )

    def _error(self, message: str) -> Exception:
        return StoreError(message)

    def _closed_error(self, message: str) -> Exception:
        return StoreClosedError(message)

    # -- writing --------------------------------------------------------------------

    async def add(self, readings: Iterable[Reading]) -> None:
        """Hand readings to the store; returns at once (see `add_nowait`)."""
        self.add_nowait(readings)

    def add_nowait(self, readings: Iterable[Reading]) -> None:
        """Hand readings to the worker without waiting for it. Beyond
        ``max_buffered_samples`` waiting for a stuck worker, the batch is dropped and
        counted (`StoreStats.dropped["overflow"]`): polling never blocks on the disk."""
        worker = self._running()
        batch = tuple(readings)
        if not batch:
            return
        with self._queued_lock:
            if self._queued + len(batch) > self.config.max_buffered_samples:
                self._queue_dropped += len(batch)
                return
            self._queued += len(batch)
        worker.post(partial(self._buffer, readings=batch), "an add")

    async def flush(self) -> int:
        """Commit what was added so far; how many samples that stored. Raises
        `StoreError` (`StoreFullError` on a full disk) when the commit fails."""
        return await self._call(lambda store: store.flush())

    async def maintain(self) -> bool:
        """Run every maintenance step due now (normally they run by themselves)."""
        return await self._call(lambda store: store.maintain())

    # -- reading --------------------------------------------------------------------

    async def latest(self, device: str, point: str, instance: str | None = None) -> Sample | None:
        return await self._call(lambda store: store.latest(device, point, instance))

    async def series(
        self,
        device: str,
        point: str,
        instance: str | None,
        start: datetime,
        end: datetime,
        step: timedelta | None = None,
    ) -> Series:
        """See `SeriesStore.series`: the resolution follows from the range."""
        return await self._call(
            lambda store: store.series(device, point, instance, start, end, step)
        )

    async def map_series(
        self,
        keys: Sequence[tuple[str, str, str | None]],
        start: datetime,
        end: datetime,
        step: timedelta | None,
        use: Callable[[int, Series], T],
    ) -> list[T]:
        """See `SeriesStore.map_series`: many series over one range, in one job
        (``use`` runs on the store's thread: keep it quick and free of I/O)."""
        return await self._call(lambda store: store.map_series(keys, start, end, step, use))

    async def devices(self) -> list[str]:
        return await self._call(lambda store: store.devices())

    async def points(self, device: str) -> list[str]:
        return await self._call(lambda store: store.points(device))

    async def instances(self, device: str, point: str) -> list[str]:
        return await self._call(lambda store: store.instances(device, point))

    async def stats(self) -> StoreStats:
        stats = await self._call(lambda store: store.stats())
        if not self._queue_dropped:
            return stats
        dropped = dict(stats.dropped)
        dropped["overflow"] = dropped.get("overflow", 0) + self._queue_dropped
        return replace(stats, dropped=dropped)

    # -- internals ------------------------------------------------------------------

    # -- in the worker thread -------------------------------------------------------

    def _buffer(self, store: SeriesStore, readings: tuple[Reading, ...]) -> None:
        with self._queued_lock:
            self._queued -= len(readings)
        if self._read_only:
            log.error("metric store opened read-only: %d readings not stored", len(readings))
            return
        try:
            store.add(readings)
        except (StoreError, ValueError) as exc:  # a naive timestamp: a caller's bug
            log.error("metric store refused %d readings: %s", len(readings), exc)
