"""What a read of many series over one range reads for all of them at once.

``recent`` is keyed (time, series) so that flushes append cheaply: a span of one
series there is a scan of every series' samples of that span. A job that reads many
series over the same range (the forecasts: every disk, battery, port and temperature
of the site, every hour) would scan it once per series, a cost growing with the
square of the site. `Batch` scans it once for all of them, and folds each series'
samples into buckets as they stream by instead of holding them: what it keeps is a
few buckets per series, not every sample of the last hours.

Exactness: a sample is counted once, as in a read of one series. Samples of
``recent`` from before the compaction cutoff may also be in ``raw`` (a compaction
pass under way copies before it deletes, and a straggler may land on a second
already moved): those are kept as samples and merged by time, like a one-series read
does. A buffered sample replaces a flushed one of the same second, so those are left
out of the stream. Everything else of the stream is newer than anything in ``raw``
and older than what the in-memory index holds.
"""

from __future__ import annotations

import json
import sqlite3

from gateway.metrics.store.buckets import Bucket
from gateway.metrics.store.buffer import WriteBuffer

# An open bucket while samples stream by: start, min, max, sum, count, last, last's time.
_Open = list[float]


class Batch:
    def __init__(
        self, conn: sqlite3.Connection, buffer: WriteBuffer, ids: set[int], cutoff: int
    ) -> None:
        """``cutoff``: samples of ``recent`` older than this may also be in ``raw``."""
        self._conn = conn
        self._buffer = buffer
        self._ids = ids
        self._cutoff = cutoff
        self._span: tuple[int, int, int] | None = None
        self._folded: dict[int, list[_Open]] = {}
        self._held: dict[int, dict[int, float]] = {}
        self._buffered: dict[int, dict[int, float]] | None = None

    @property
    def many(self) -> bool:
        return len(self._ids) > 1

    def buffered(self, series_id: int, start: int, end: int) -> dict[int, float]:
        """The buffered samples of ``series_id`` with ``start <= ts <= end``, by time."""
        if self._buffered is None:
            self._buffered = self._buffer.by_series(self._ids)
        held = self._buffered.get(series_id, {})
        return {ts: value for ts, value in held.items() if start <= ts <= end}

    def recent(
        self, series_id: int, start: int, stop: int, width: int
    ) -> tuple[dict[int, float], list[tuple[Bucket, int]]]:
        """What ``recent`` holds of ``series_id`` with ``start <= ts < stop``: the
        samples that may also be elsewhere (by time), and the rest folded into
        buckets of ``width`` (each with the time of its last sample), oldest first;
        ``width`` 0: every sample as it is."""
        if self._span is None:
            self._scan(start, stop, width)
        if self._span != (start, stop, width):  # not the range's span: read on its own
            rows = self._conn.execute(
                "SELECT ts, value FROM recent WHERE ts >= ? AND ts < ? AND series_id = ?",
                (start, stop, series_id),
            ).fetchall()
            return dict(rows), []
        folded = [
            (Bucket(int(b[0]), b[1], b[2], b[3], int(b[4]), b[5]), int(b[6]))
            for b in self._folded.get(series_id, ())
        ]
        return self._held.get(series_id, {}), folded

    def _scan(self, start: int, stop: int, width: int) -> None:
        self._span = (start, stop, width)
        cutoff = self._cutoff
        held, folded = self._held, self._folded
        if self._buffered is None:
            self._buffered = self._buffer.by_series(self._ids)
        replaced = {
            (sid, ts) for sid, rows in self._buffered.items() for ts in rows if start <= ts < stop
        }
        # Key order is time order: each series' buckets come oldest first.
        for sid, ts, value in self._conn.execute(
            "SELECT series_id, ts, value FROM recent WHERE ts >= ? AND ts < ?"
            " AND series_id IN (SELECT value FROM json_each(?)) ORDER BY ts",
            (start, stop, json.dumps(sorted(self._ids))),
        ):
            if ts < cutoff or not width:  # width 0: samples wanted as they are
                held.setdefault(sid, {})[ts] = value
                continue
            if replaced and (sid, ts) in replaced:
                continue
            bucket = ts - ts % width
            buckets = folded.get(sid)
            if buckets is None:
                folded[sid] = [[bucket, value, value, value, 1, value, ts]]
                continue
            open_ = buckets[-1]
            if open_[0] != bucket:
                buckets.append([bucket, value, value, value, 1, value, ts])
                continue
            if value < open_[1]:
                open_[1] = value
            if value > open_[2]:
                open_[2] = value
            open_[3] += value
            open_[4] += 1
            open_[5] = value
            open_[6] = ts


def combine(
    rows: list[tuple[int, float]], folded: list[tuple[Bucket, int]], width: int
) -> list[Bucket]:
    """Buckets of ``width`` over samples ``rows`` (by time) and buckets already folded
    from other samples (none of the same second), oldest first."""
    by_start: dict[int, tuple[Bucket, int]] = {b.start: (b, last_ts) for b, last_ts in folded}
    start = -1
    for ts, value in rows:
        start = ts - ts % width
        held = by_start.get(start)
        if held is None:
            by_start[start] = (Bucket(start, value, value, value, 1, value), ts)
            continue
        b, last_ts = held
        newer = ts > last_ts
        by_start[start] = (
            Bucket(
                start,
                min(b.min, value),
                max(b.max, value),
                b.sum + value,
                b.samples + 1,
                value if newer else b.last,
            ),
            ts if newer else last_ts,
        )
    return [by_start[s][0] for s in sorted(by_start)]
