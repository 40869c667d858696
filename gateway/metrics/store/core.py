"""The embedded store's synchronous core: one SQLite file, used from one thread.

`MetricStore` (gateway/metrics/store/metric_store.py) runs it on its worker thread for the asyncio
side; benchmarks, tests and `lvgw status` on a stopped agent may use it directly.
Time comes from the injected ``clock``: flushing and maintenance fall due by it, so a
test can replay 90 days in seconds.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from gateway.metrics.store.buffer import WriteBuffer
from gateway.metrics.store.db import Meta, connect, file_size, log_limit
from gateway.metrics.store.errors import (
    StoreClosedError,
    StoreError,
    StoreReadOnlyError,
    translate,
)
from gateway.metrics.store.maintain import TABLES, Maintainer
from gateway.metrics.store.query import Reader
from gateway.metrics.store.recent import RecentIndex
from gateway.metrics.store.series import SeriesKey, SeriesRegistry
from gateway.metrics.store.types import (
    Clock,
    Sample,
    Series,
    StoreConfig,
    StoreStats,
    numeric_value,
    skip_reason,
    to_datetime,
    to_epoch,
)
from gateway.model import Quality, Reading
from gateway.sqlite import Database

log = logging.getLogger("gateway.metrics.store")

T = TypeVar("T")

# Samples stamped further ahead of the clock than this are refused: a device clock
# years off would otherwise sit in `recent` until that time comes.
FUTURE_SLACK = 300
# Real seconds one automatic maintenance run may take before it yields to queries.
MAINTENANCE_SLICE = 0.25


class SeriesStore:
    """Numeric readings kept on the box: raw 48 h, 5-minute and hourly aggregates beyond.

    Not thread-safe: every call must come from the thread that opened it.
    """

    def __init__(
        self,
        db: Database,
        config: StoreConfig,
        clock: Clock,
        read_only: bool,
    ) -> None:
        self.path = db.path
        self.config = config
        self._db = db
        conn = self._conn = db.conn
        self._clock = clock
        self._read_only = read_only
        self._meta = Meta(conn)
        self._registry = SeriesRegistry(conn)
        self._buffer = WriteBuffer()
        self._recent = RecentIndex.load(conn, config.recent_index_bytes)
        self._maintainer = Maintainer(db, self._meta, self._registry, self._recent, config)
        self._reader = Reader(conn, self._registry, self._buffer, self._recent, self._maintainer)
        now = self._now()
        self._last_flush = now
        self._next_maintenance = now
        self._flushes = 0
        self._stored = 0
        self._skipped: Counter[str] = Counter()
        self._dropped: Counter[str] = Counter()
        self._failure: str | None = None  # the error automatic work is failing with
        self._closed = False

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        config: StoreConfig | None = None,
        clock: Clock = time.time,
        read_only: bool = False,
    ) -> SeriesStore:
        """Open (creating on first use, unless ``read_only``) the store at ``path``."""
        path = Path(path)
        config = config or StoreConfig()
        db = connect(path, config.budget_bytes, read_only=read_only)
        try:
            return cls(db, config, clock, read_only)
        except sqlite3.Error as exc:
            db.close()
            raise translate(exc, path, "open the metric store") from exc
        except BaseException:
            db.close()
            raise

    def close(self) -> None:
        """Flush what is buffered and close the file (a no-op the second time)."""
        if self._closed:
            return
        try:
            if not self._read_only:
                self.flush()
        finally:
            self._closed = True
            self._db.close()

    # -- writing --------------------------------------------------------------------

    def add(self, readings: Iterable[Reading]) -> int:
        """Buffer the numeric readings; how many were kept. Flushes and maintains when
        due; a failing flush is logged and retried later (the samples stay buffered)."""
        self._writable()
        now = self._now()
        too_old = now - int(self.config.raw_retention.total_seconds())
        limit = self.config.max_buffered_samples
        kept = 0
        when: datetime | None = None  # a poll's readings share their time: convert it once
        ts = 0
        id_for = self._registry.id_for
        for reading in readings:
            value = reading.value
            # The usual reading first: a good float or int (not a bool), finite.
            if (
                reading.quality is Quality.GOOD
                and (type(value) is float or type(value) is int)
                and -math.inf < value < math.inf
            ):
                value = float(value)
            else:
                value = numeric_value(reading)
                if value is None:
                    self._skipped[skip_reason(reading)] += 1
                    continue
            if reading.ts is not when:
                when, ts = reading.ts, to_epoch(reading.ts)
            if ts < too_old:
                self._dropped["too_old"] += 1
            elif ts > now + FUTURE_SLACK:
                self._dropped["future"] += 1
            elif len(self._buffer) >= limit:
                self._dropped["overflow"] += 1
            else:
                series = id_for((reading.device, reading.point, reading.instance))
                self._buffer.put(ts, series, value)
                kept += 1
        self.tick()
        return kept

    def flush(self) -> int:
        """Commit the buffer in one transaction; how many samples it stored."""
        self._writable()
        oldest = self._buffer.oldest()
        with self._errors("flush samples"):
            stored = self._buffer.flush(self._conn, self._meta, self._registry, self._recent)
        if oldest is not None:
            self._maintainer.note_flushed(oldest)
        self._last_flush = self._now()
        if stored:
            self._flushes += 1
            self._stored += stored
        return stored

    def tick(self) -> None:
        """Flush and run maintenance if the clock says they are due. Errors are logged
        when they start and when they stop, never raised: call `flush` to see them."""
        if self._read_only or self._closed:
            return
        now = self._now()
        try:
            if self._buffer and (
                len(self._buffer) >= self.config.flush_samples
                or now - self._last_flush >= self.config.flush_interval.total_seconds()
            ):
                self.flush()
            if now >= self._next_maintenance:
                more = self.maintain(time_slice=MAINTENANCE_SLICE)
                interval = self.config.maintenance_interval.total_seconds()
                self._next_maintenance = now if more else now + math.ceil(interval)
        except StoreError as exc:
            if self._failure is None:
                log.error("metric store failing, samples stay buffered: %s", exc)
            self._failure = str(exc)
            return
        if self._failure is not None:
            log.info("metric store recovered: buffered=%d", len(self._buffer))
            self._failure = None

    def maintain(self, *, time_slice: float | None = None) -> bool:
        """Compact, downsample, prune and enforce the budget: every step due now, or
        as many as fit in ``time_slice`` real seconds. True when more is due."""
        self._writable()
        now = self._now()
        deadline = None if time_slice is None else time.monotonic() + time_slice
        with self._errors("maintain the store"):
            while self._maintainer.step(now, self._buffer):
                if deadline is not None and time.monotonic() >= deadline:
                    return True
            size = file_size(self._db)
            if size.wal_bytes > log_limit(self.config.budget_bytes):
                # A large step grew the log; give the space back now it is idle.
                self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        return False

    # -- reading --------------------------------------------------------------------

    def latest(self, device: str, point: str, instance: str | None = None) -> Sample | None:
        """The newest sample of a series (``instance`` None or "" for a scalar point),
        or None if it has none."""
        self._open_or_raise()
        with self._errors("read the latest sample"):
            return self._reader.latest(SeriesKey(device, point, instance or ""))

    def series(
        self,
        device: str,
        point: str,
        instance: str | None,
        start: datetime,
        end: datetime,
        step: timedelta | None = None,
    ) -> Series:
        """Samples (or buckets) with ``start <= ts <= end``, oldest first.

        Without ``step``: raw samples when ``start`` is inside the raw window (48 h),
        else 5-minute buckets (90 days), else hourly ones. With ``step``: buckets of
        that width (rounded up to whole buckets of the resolution used), built from
        the coarsest resolution that fits. An unknown series gives an empty `Series`.
        """
        self._open_or_raise()
        width = None if step is None else math.ceil(step.total_seconds())
        if width is not None and width <= 0:
            raise ValueError(f"step must be positive, not {step}")
        key = SeriesKey(device, point, instance or "")
        with self._errors("read a series"):
            return self._reader.series(key, to_epoch(start), to_epoch(end), width, self._now())

    def map_series(
        self,
        keys: Sequence[tuple[str, str, str | None]],
        start: datetime,
        end: datetime,
        step: timedelta | None,
        use: Callable[[int, Series], T],
    ) -> list[T]:
        """``use(i, series)`` for the ``series`` of each (device, point, instance) of
        ``keys``, ``i`` its place there, over one range; what ``use`` returns, in
        order. A job over many series (the forecasts) reads the span they share once,
        where one call per series would read it once each; and only one series'
        samples are held at a time, ``use`` keeping what it needs of them."""
        self._open_or_raise()
        width = None if step is None else math.ceil(step.total_seconds())
        if width is not None and width <= 0:
            raise ValueError(f"step must be positive, not {step}")
        wanted = [SeriesKey(device, point, instance or "") for device, point, instance in keys]
        with self._errors("read series"):
            found = self._reader.series_many(
                wanted, to_epoch(start), to_epoch(end), width, self._now()
            )
            return [use(i, series) for i, series in enumerate(found)]

    def devices(self) -> list[str]:
        self._open_or_raise()
        return self._registry.devices()

    def points(self, device: str) -> list[str]:
        self._open_or_raise()
        return self._registry.points(device)

    def instances(self, device: str, point: str) -> list[str]:
        self._open_or_raise()
        return self._registry.instances(device, point)

    def stats(self) -> StoreStats:
        self._open_or_raise()
        now = self._now()
        with self._errors("read the store's size"):
            size = file_size(self._db)
        done = self._maintainer.downsampled_until()
        dropped = self._dropped.copy()
        dropped["too_old"] += self._maintainer.dropped_late
        return StoreStats(
            series=len(self._registry),
            buffered=len(self._buffer),
            flushes=self._flushes,
            stored=self._stored,
            skipped=dict(self._skipped),
            dropped={k: v for k, v in dropped.items() if v},
            file_bytes=size.file_bytes,
            wal_bytes=size.wal_bytes,
            free_bytes=size.free_bytes,
            budget_bytes=self.config.budget_bytes,
            over_budget=self._maintainer.over_budget,
            kept_from={tier: to_datetime(self._maintainer.kept_from(tier, now)) for tier in TABLES},
            downsampled_until=None if done is None else to_datetime(done),
        )

    # -- internals ------------------------------------------------------------------

    def _now(self) -> int:
        return math.floor(self._clock())

    def _open_or_raise(self) -> None:
        if self._closed:
            raise StoreClosedError(f"{self.path}: the metric store is closed")

    def _writable(self) -> None:
        self._open_or_raise()
        if self._read_only:
            raise StoreReadOnlyError(f"{self.path}: the metric store was opened read-only")

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise translate(exc, self.path, doing) from exc
