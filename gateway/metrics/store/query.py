"""Reading history back: the newest sample, and a series at the resolution a range needs.

Reads see every sample added, flushed or not: the buffer is merged in, so a query
right after `add` finds what was added.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import timedelta

from gateway.metrics.store.batch import Batch, combine
from gateway.metrics.store.buckets import Bucket, decode, fold, merge, raw_sample, to_sample
from gateway.metrics.store.buffer import WriteBuffer
from gateway.metrics.store.maintain import COMPACT_EVERY, GRACE, TABLES, Maintainer, floor_to
from gateway.metrics.store.recent import RecentIndex
from gateway.metrics.store.series import SeriesKey, SeriesRegistry
from gateway.metrics.store.types import Resolution, Sample, Series

_COARSEST_FIRST = (Resolution.HOUR, Resolution.FIVE_MINUTES, Resolution.RAW)
_FINEST_FIRST = tuple(reversed(_COARSEST_FIRST))


class Reader:
    def __init__(
        self,
        conn: sqlite3.Connection,
        registry: SeriesRegistry,
        buffer: WriteBuffer,
        recent: RecentIndex,
        maintainer: Maintainer,
    ) -> None:
        self._conn = conn
        self._recent = recent
        self._registry = registry
        self._buffer = buffer
        self._maintainer = maintainer

    def latest(self, key: SeriesKey) -> Sample | None:
        series_id = self._registry.find(key)
        if series_id is None:
            return None
        newest = self._buffer.newest(series_id)
        row = self._conn.execute(
            "SELECT ts, value FROM latest WHERE series_id = ?", (series_id,)
        ).fetchone()
        if row is not None and (newest is None or int(row[0]) > newest[0]):
            newest = (int(row[0]), float(row[1]))
        return None if newest is None else raw_sample(*newest)

    def resolution(self, start: int, now: int, step: int | None) -> Resolution:
        """The resolution for a range beginning at ``start``: the finest that still
        covers it; with a ``step``, the coarsest whose buckets fit in one step."""
        kept = {tier: self._maintainer.kept_from(tier, now) for tier in _FINEST_FIRST}
        if step is not None:
            for tier in _COARSEST_FIRST:
                if int(tier) <= step and start >= kept[tier]:
                    return tier
        for tier in _FINEST_FIRST:
            if start >= kept[tier]:
                return tier
        return Resolution.HOUR

    def series(self, key: SeriesKey, start: int, end: int, step: int | None, now: int) -> Series:
        return next(self.series_many([key], start, end, step, now))

    def series_many(
        self, keys: Sequence[SeriesKey], start: int, end: int, step: int | None, now: int
    ) -> Iterator[Series]:
        """`series` of each key over the same range, one after the other: what they
        read of ``recent`` is read in one pass for all of them, not in one pass each
        (a pass reads every series' samples of that span, ``recent`` being keyed by
        time; see batch.py)."""
        tier = self.resolution(start, now, step)
        width = _step_for(tier, step)
        ids = [self._registry.find(key) for key in keys]
        # No compaction has copied anything from this cutoff on to ``raw``.
        cutoff = floor_to(now - GRACE, COMPACT_EVERY)
        batch = Batch(self._conn, self._buffer, {i for i in ids if i is not None}, cutoff)
        for series_id in ids:
            if series_id is None or end < start:
                yield Series(tier, _td(width))
            else:
                yield self._series(series_id, tier, width, start, end, batch)

    def _series(
        self, series_id: int, tier: Resolution, width: int, start: int, end: int, batch: Batch
    ) -> Series:
        if tier is Resolution.RAW:
            if not width:
                rows = self._raw_rows(series_id, start, end, batch)
                return Series(tier, _td(0), tuple(raw_sample(ts, v) for ts, v in rows))
            last = floor_to(end, width) + width - 1
            buckets = self._fold(series_id, floor_to(start, width), last, width, batch)
        else:
            # Whole buckets of ``width``: from the start of the first to the end of the last.
            low, high = floor_to(start, width), floor_to(end, width) + width - 1
            buckets = self._buckets(series_id, tier, low, high, batch)
            if width > int(tier):
                buckets = merge(buckets, width)
        first = floor_to(start, width)
        return Series(
            tier, _td(width), tuple(to_sample(b) for b in buckets if first <= b.start <= end)
        )

    def _raw_rows(
        self, series_id: int, start: int, end: int, batch: Batch
    ) -> list[tuple[int, float]]:
        """Samples with ``start <= ts <= end`` from raw, recent and the buffer, by time."""
        merged = self._stored_rows(series_id, start, end)
        stop = self._recent_stop(start, end)
        if stop is not None:
            if batch.many:
                held, _ = batch.recent(series_id, start, stop, 0)
                merged.update(held)
            else:
                merged.update(self._recent_rows(series_id, start, stop))
        merged.update(self._recent.rows(series_id, start, end))
        merged.update(batch.buffered(series_id, start, end))
        return sorted(merged.items())

    def _fold(self, series_id: int, start: int, end: int, width: int, batch: Batch) -> list[Bucket]:
        """Buckets of ``width`` over the samples with ``start <= ts <= end``. A read of
        many series folds what ``recent`` holds of each as the batch streams it."""
        stop = self._recent_stop(start, end)
        if stop is None or not batch.many:
            return fold(self._raw_rows(series_id, start, end, batch), width)
        merged = self._stored_rows(series_id, start, end)
        held, folded = batch.recent(series_id, start, stop, width)
        merged.update(held)
        merged.update(self._recent.rows(series_id, start, end))
        merged.update(batch.buffered(series_id, start, end))
        return combine(sorted(merged.items()), folded, width)

    def _stored_rows(self, series_id: int, start: int, end: int) -> dict[int, float]:
        return dict(
            self._conn.execute(
                "SELECT ts, value FROM raw WHERE series_id = ? AND ts >= ? AND ts <= ?",
                (series_id, start, end),
            ).fetchall()
        )

    def _recent_stop(self, start: int, end: int) -> int | None:
        """Where a read of ``start..end`` stops reading the ``recent`` table (the
        in-memory index holds the rest); None: the index holds all of it."""
        complete = self._recent.complete_since
        if complete is None or start >= complete:
            return None
        return min(end + 1, complete)

    def _recent_rows(self, series_id: int, start: int, stop: int) -> dict[int, float]:
        return dict(
            self._conn.execute(
                "SELECT ts, value FROM recent WHERE ts >= ? AND ts < ? AND series_id = ?",
                (start, stop, series_id),
            ).fetchall()
        )

    def _buckets(
        self, series_id: int, tier: Resolution, start: int, end: int, batch: Batch
    ) -> list[Bucket]:
        """Buckets of ``tier`` starting in ``[start, end]`` (start rounded down): stored
        ones below the downsampling watermark, folded from raw samples above it."""
        width = int(tier)
        low = floor_to(start, width)
        high = floor_to(end, width)
        done = self._maintainer.downsampled_until()
        watermark = low if done is None else max(low, done)
        stored: list[Bucket] = []
        if low < watermark:
            stored = [
                decode(int(ts), (low_, high_, total, int(count), last))
                for ts, low_, high_, total, count, last in self._conn.execute(
                    f"SELECT ts, min, max, sum, count, last FROM {TABLES[tier]}"
                    " WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts",
                    (series_id, low, min(high + 1, watermark)),
                )
            ]
        fresh: list[Bucket] = []
        if watermark <= high:
            fresh = self._fold(series_id, watermark, high + width - 1, width, batch)
        return stored + fresh


def _step_for(tier: Resolution, step: int | None) -> int:
    """The width of the returned buckets: ``step`` rounded up to whole buckets of
    ``tier``; zero for raw samples without a step."""
    width = int(tier)
    if step is None:
        return width
    if width == 0:
        return step
    return -(-step // width) * width


def _td(seconds: int) -> timedelta:
    return timedelta(seconds=seconds)
