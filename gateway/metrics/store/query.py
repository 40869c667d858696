"""Reading history back: the newest sample, and a series at the resolution a range needs.

Reads see every sample added, flushed or not: the buffer is merged in, so a query
right after `add` finds what was added.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from gateway.metrics.store.buckets import Bucket, decode, fold, merge, raw_sample, to_sample
from gateway.metrics.store.buffer import WriteBuffer
from gateway.metrics.store.maintain import TABLES, Maintainer, floor_to
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
        tier = self.resolution(start, now, step)
        width = _step_for(tier, step)
        series_id = self._registry.find(key)
        if series_id is None or end < start:
            return Series(tier, _td(width))
        if tier is Resolution.RAW:
            if not width:
                rows = self._raw_rows(series_id, start, end)
                return Series(tier, _td(0), tuple(raw_sample(ts, v) for ts, v in rows))
            last = floor_to(end, width) + width - 1
            buckets = fold(self._raw_rows(series_id, floor_to(start, width), last), width)
        else:
            # Whole buckets of ``width``: from the start of the first to the end of the last.
            low, high = floor_to(start, width), floor_to(end, width) + width - 1
            buckets = self._buckets(series_id, tier, low, high)
            if width > int(tier):
                buckets = merge(buckets, width)
        first = floor_to(start, width)
        return Series(
            tier, _td(width), tuple(to_sample(b) for b in buckets if first <= b.start <= end)
        )

    def _raw_rows(self, series_id: int, start: int, end: int) -> list[tuple[int, float]]:
        """Samples with ``start <= ts <= end`` from raw, recent and the buffer, by time."""
        merged: dict[int, float] = dict(
            self._conn.execute(
                "SELECT ts, value FROM raw WHERE series_id = ? AND ts >= ? AND ts <= ?",
                (series_id, start, end),
            ).fetchall()
        )
        complete = self._recent.complete_since
        if complete is not None and start < complete:  # memory no longer holds that span
            merged.update(
                self._conn.execute(
                    "SELECT ts, value FROM recent WHERE ts >= ? AND ts < ? AND series_id = ?",
                    (start, min(end + 1, complete), series_id),
                ).fetchall()
            )
        merged.update(self._recent.rows(series_id, start, end))
        merged.update(self._buffer.rows(series_id, start, end))
        return sorted(merged.items())

    def _buckets(self, series_id: int, tier: Resolution, start: int, end: int) -> list[Bucket]:
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
            fresh = fold(self._raw_rows(series_id, watermark, high + width - 1), width)
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
