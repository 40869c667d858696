"""The embedded metric store read from its file, by a process or task that does not own it.

The agent's metric store lives in ``<state_dir>/metrics.db``. The status page and
`lvgw report` read it through this adapter: a read-only `MetricStore` opened on first
use, so a store that does not exist yet (a new site) simply has no history. Reads see
what the owner has flushed (at most its flush interval behind). A read-only store
learns its list of series when it opens, so the adapter reopens it now and then to
see series the owner added since.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from gateway.metrics.store.metric_store import MetricStore
from gateway.metrics.store.types import Resolution, Sample, Series

METRICS_NAME = "metrics.db"
REOPEN_AFTER = 300.0  # seconds: how stale the list of series may get

T = TypeVar("T")


class StoreHistory:
    """`gateway.proactive.ports.History` over a store file, opened read-only on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._store: MetricStore | None = None
        self._opened_at = 0.0
        self._lock = asyncio.Lock()

    @classmethod
    def in_state_dir(cls, state_dir: Path) -> StoreHistory:
        return cls(state_dir / METRICS_NAME)

    async def _opened(self) -> MetricStore | None:
        async with self._lock:
            if self._store is not None and time.monotonic() - self._opened_at > REOPEN_AFTER:
                await self._store.close()
                self._store = None
            if self._store is None and self.path.exists():
                self._store = await MetricStore(self.path, read_only=True).open()
                self._opened_at = time.monotonic()
            return self._store

    async def close(self) -> None:
        async with self._lock:
            if self._store is not None:
                await self._store.close()
                self._store = None

    async def latest(self, device: str, point: str, instance: str | None = None) -> Sample | None:
        store = await self._opened()
        return None if store is None else await store.latest(device, point, instance)

    async def series(
        self,
        device: str,
        point: str,
        instance: str | None,
        start: datetime,
        end: datetime,
        step: timedelta | None = None,
    ) -> Series:
        store = await self._opened()
        if store is None:
            return Series(Resolution.RAW, timedelta(0))
        return await store.series(device, point, instance, start, end, step)

    async def map_series(
        self,
        keys: Sequence[tuple[str, str, str | None]],
        start: datetime,
        end: datetime,
        step: timedelta | None,
        use: Callable[[int, Series], T],
    ) -> list[T]:
        store = await self._opened()
        if store is None:
            return [use(i, Series(Resolution.RAW, timedelta(0))) for i in range(len(keys))]
        return await store.map_series(keys, start, end, step, use)

    async def points(self, device: str) -> list[str]:
        store = await self._opened()
        return [] if store is None else await store.points(device)

    async def instances(self, device: str, point: str) -> list[str]:
        store = await self._opened()
        return [] if store is None else await store.instances(device, point)
