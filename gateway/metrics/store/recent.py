"""An in-memory copy of the ``recent`` table, per series, for reads.

``recent`` is keyed by time so that flushes append cheaply; reading one series from it
would scan every series' last hours (20 ms for one hour of 1,000 series here, several
times that on a Raspberry Pi, for every chart line). This copy answers the same
question with two binary searches. It holds what ``recent`` holds, up to a little
over 3 hours: 16 bytes per sample in two arrays per series, about 6 MB for 1,000
series polled every 30 s.

It is bounded in bytes (``max_bytes``): a device that reports thousands of series
every second would otherwise grow it by half a MB a second. Past the bound the oldest
half of the time it covers is dropped from memory (not from the file), and
``complete_since`` says from when on it holds every sample; a read of what lies
before comes from the ``recent`` table.
"""

from __future__ import annotations

import sqlite3
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable

SAMPLE_BYTES = 16  # a time (int64) and a value (double)
SERIES_BYTES = 300  # two arrays and their dict slots, about
DEFAULT_MAX_BYTES = 16 * 1024 * 1024


class RecentIndex:
    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._times: dict[int, array[int]] = {}
        self._values: dict[int, array[float]] = {}
        self.max_bytes = max_bytes
        self._samples = 0
        # From this time on the index holds every sample of `recent`; None: all of them.
        self.complete_since: int | None = None

    @property
    def bytes(self) -> int:
        return self._samples * SAMPLE_BYTES + len(self._times) * SERIES_BYTES

    @classmethod
    def load(cls, conn: sqlite3.Connection, max_bytes: int = DEFAULT_MAX_BYTES) -> RecentIndex:
        index = cls(max_bytes)
        # Key order is time order, so each series' arrays are built already sorted.
        for ts, series_id, value in conn.execute("SELECT ts, series_id, value FROM recent"):
            index.put(int(series_id), int(ts), float(value))
        return index

    def put(self, series_id: int, ts: int, value: float) -> None:
        """Record one committed sample (replacing one of the same series and second)."""
        if self.complete_since is not None and ts < self.complete_since:
            return  # older than what memory keeps: reads of it go to the file
        times = self._times.get(series_id)
        if times is None:
            self._times[series_id] = array("q", (ts,))
            self._values[series_id] = array("d", (value,))
            self._grew()
        elif times and ts > times[-1]:  # the usual case: newer than anything held
            times.append(ts)
            self._values[series_id].append(value)
            self._grew()
        else:
            self._place(series_id, ts, value)

    def put_many(self, rows: Iterable[tuple[int, int, float]]) -> None:
        """`put` of each committed ``(ts, series_id, value)``, in time order (a flush),
        with the bound checked once at the end instead of at every sample."""
        times_of, values_of = self._times, self._values
        complete = self.complete_since
        added = 0
        for ts, series_id, value in rows:
            if complete is not None and ts < complete:
                continue
            times = times_of.get(series_id)
            if times is not None and times and ts > times[-1]:  # the usual case
                times.append(ts)
                values_of[series_id].append(value)
                added += 1
            elif times is None:
                times_of[series_id] = array("q", (ts,))
                values_of[series_id] = array("d", (value,))
                added += 1
            else:
                self._place(series_id, ts, value, check=False)
        self._samples += added
        if self.bytes > self.max_bytes:
            self._shrink()

    def _place(self, series_id: int, ts: int, value: float, check: bool = True) -> None:
        """An older or same-second sample of a series already held, in time order."""
        times, values = self._times[series_id], self._values[series_id]
        if not times:
            times.append(ts)
            values.append(value)
            self._grew(check)
            return
        at = bisect_left(times, ts)
        if at < len(times) and times[at] == ts:
            values[at] = value
        else:  # a straggler: keep the arrays in time order
            times.insert(at, ts)
            values.insert(at, value)
            self._grew(check)

    def _grew(self, check: bool = True) -> None:
        self._samples += 1
        if check and self.bytes > self.max_bytes:
            self._shrink()

    def _shrink(self) -> None:
        """Drop the oldest half of the time held until a quarter of the budget is free."""
        while self._samples and self.bytes > self.max_bytes * 3 // 4:
            heads = [times[0] for times in self._times.values() if times]
            tails = [times[-1] for times in self._times.values() if times]
            oldest, newest = min(heads), max(tails)
            cutoff = oldest + max(1, (newest - oldest) // 2)
            self.drop_before(cutoff)
            self.complete_since = max(self.complete_since or cutoff, cutoff)

    def rows(self, series_id: int, start: int, end: int) -> list[tuple[int, float]]:
        """The samples of one series with ``start <= ts <= end``, oldest first."""
        times = self._times.get(series_id)
        if not times:
            return []
        low, high = bisect_left(times, start), bisect_right(times, end)
        return list(zip(times[low:high], self._values[series_id][low:high], strict=True))

    def drop_before(self, cutoff: int) -> None:
        """Forget what a committed compaction moved out of ``recent`` (ts < cutoff)."""
        emptied = []
        for series_id, times in self._times.items():
            count = bisect_left(times, cutoff)
            if count:
                del times[:count]
                del self._values[series_id][:count]
                self._samples -= count
                if not times:
                    emptied.append(series_id)
        self.forget(emptied)

    def forget(self, ids: Iterable[int]) -> None:
        for series_id in ids:
            self._samples -= len(self._times.pop(series_id, ()))
            self._values.pop(series_id, None)
