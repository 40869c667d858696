"""An in-memory copy of the ``recent`` table, for reads of one series.

``recent`` is keyed by time so that flushes append cheaply; reading one series from it
would scan every series' last hours (20 ms for one hour of 1,000 series here, several
times that on a Raspberry Pi, for every chart line). This copy answers the same
question with a few binary searches per flush it holds.

It keeps each flush as one block of three flat arrays (series number, time, value:
20 bytes a sample) sorted by series then time, so it costs nothing per series: a
site of 150,000 series holds as many samples in it as one of 1,000. A read of one
series binary-searches each block; a later block's sample of the same series and
second replaces an earlier one's, as the table's ``INSERT OR REPLACE`` does. It holds
what ``recent`` holds, up to a little over 3 hours: about 7 MB for 1,000 series polled
every 30 s.

It is bounded in bytes (``max_bytes``): a device that reports thousands of series
every second would otherwise grow it by half a MB a second, and at a large site three
hours of every series do not fit. Past the bound the oldest blocks are dropped from
memory (not from the file) until a quarter of the budget is free, and
``complete_since`` says from when on it holds every sample; a read of what lies
before comes from the ``recent`` table.
"""

from __future__ import annotations

import sqlite3
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import itemgetter

SAMPLE_BYTES = 20  # a series number (uint32), a time (int64) and a value (double)
BLOCK_BYTES = 400  # three arrays and the block holding them, about
DEFAULT_MAX_BYTES = 16 * 1024 * 1024
LOAD_ROWS = 50_000  # rows of the table per block when the index is loaded at open

_SERIES = itemgetter(1)


@dataclass(slots=True)
class _Block:
    """Samples of one flush, by series then time."""

    ids: array[int]
    times: array[int]
    values: array[float]
    oldest: int
    newest: int

    @classmethod
    def of(cls, rows: list[tuple[int, int, float]]) -> _Block:
        """From ``(ts, series_id, value)`` rows in time order."""
        rows.sort(key=_SERIES)  # stable: each series' samples stay in time order
        times = array("q", [ts for ts, _, _ in rows])
        return cls(
            array("I", [sid for _, sid, _ in rows]),
            times,
            array("d", [value for _, _, value in rows]),
            min(times),
            max(times),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def rows(self, series_id: int, start: int, end: int) -> Iterable[tuple[int, float]]:
        ids = self.ids
        low = bisect_left(ids, series_id)
        if low == len(ids) or ids[low] != series_id:
            return ()
        high = bisect_right(ids, series_id, low)
        times = self.times
        first = bisect_left(times, start, low, high)
        last = bisect_right(times, end, first, high)
        return zip(times[first:last], self.values[first:last], strict=True)

    def kept(self, keep: Iterable[bool]) -> _Block | None:
        """The block with only the samples ``keep`` says (None if none)."""
        rows = [
            (ts, sid, value)
            for ts, sid, value, wanted in zip(self.times, self.ids, self.values, keep, strict=True)
            if wanted
        ]
        return _Block.of(rows) if rows else None


# Which samples of a block to keep, in its order.
_Keep = Callable[[_Block], Iterable[bool]]


class RecentIndex:
    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._blocks: list[_Block] = []  # in the order they were flushed
        self.max_bytes = max_bytes
        self._samples = 0
        # From this time on the index holds every sample of `recent`; None: all of them.
        self.complete_since: int | None = None

    @property
    def bytes(self) -> int:
        return self._samples * SAMPLE_BYTES + len(self._blocks) * BLOCK_BYTES

    @classmethod
    def load(cls, conn: sqlite3.Connection, max_bytes: int = DEFAULT_MAX_BYTES) -> RecentIndex:
        """The index of what ``recent`` holds, newest first until three quarters of
        ``max_bytes`` are used: a restart of a large site reads what memory keeps,
        not the whole table."""
        index = cls(max_bytes)
        budget = max_bytes * 3 // 4
        chunks: list[list[tuple[int, int, float]]] = []
        samples = 0
        cursor = conn.execute("SELECT ts, series_id, value FROM recent ORDER BY ts DESC")
        while rows := cursor.fetchmany(max(1000, min(LOAD_ROWS, budget // SAMPLE_BYTES // 8))):
            if (samples + len(rows)) * SAMPLE_BYTES + (len(chunks) + 1) * BLOCK_BYTES > budget:
                # What is older is read from the table; the oldest second loaded may
                # be partial, so memory is complete only after it (after the newest
                # second when not even one chunk fits).
                oldest = chunks[-1][-1][0] if chunks else int(rows[0][0])
                index.complete_since = oldest + 1
                break
            chunks.append([(int(ts), int(sid), float(value)) for ts, sid, value in rows])
            samples += len(rows)
        for chunk in reversed(chunks):
            chunk.reverse()  # time order, as a flush gives it
            index._blocks.append(_Block.of(chunk))
        index._samples = samples
        return index

    def put(self, series_id: int, ts: int, value: float) -> None:
        """Record one committed sample (replacing one of the same series and second)."""
        self.put_many([(ts, series_id, value)])

    def put_many(self, rows: Iterable[tuple[int, int, float]]) -> None:
        """Record the committed ``(ts, series_id, value)`` of one flush, in time order."""
        complete = self.complete_since
        kept = [row for row in rows if complete is None or row[0] >= complete]
        if not kept:
            return
        self._blocks.append(_Block.of(kept))
        self._samples += len(kept)
        if self.bytes > self.max_bytes:
            self._shrink()

    def _shrink(self) -> None:
        """Drop the oldest blocks until a quarter of the budget is free."""
        dropped_until = self.complete_since
        drop = 0
        samples = self._samples
        while drop < len(self._blocks) and (
            samples * SAMPLE_BYTES + (len(self._blocks) - drop) * BLOCK_BYTES
            > self.max_bytes * 3 // 4
        ):
            block = self._blocks[drop]
            samples -= len(block)
            newest = block.newest + 1
            dropped_until = newest if dropped_until is None else max(dropped_until, newest)
            drop += 1
        del self._blocks[:drop]
        self._samples = samples
        self.complete_since = dropped_until

    def rows(self, series_id: int, start: int, end: int) -> list[tuple[int, float]]:
        """The samples of one series with ``start <= ts <= end``, oldest first (none
        from before ``complete_since``)."""
        if self.complete_since is not None:
            start = max(start, self.complete_since)
        found: dict[int, float] = {}
        for block in self._blocks:
            if block.newest >= start and block.oldest <= end:
                found.update(block.rows(series_id, start, end))
        return sorted(found.items())

    def drop_before(self, cutoff: int) -> None:
        """Forget what a committed compaction moved out of ``recent`` (ts < cutoff)."""
        self._filter(lambda block: (ts >= cutoff for ts in block.times), cutoff)

    def forget(self, ids: Iterable[int]) -> None:
        gone = set(ids)
        if gone:
            self._filter(lambda block: (sid not in gone for sid in block.ids))

    def _filter(self, keep_of: _Keep, cutoff: int | None = None) -> None:
        blocks: list[_Block] = []
        for block in self._blocks:
            if cutoff is not None and block.oldest >= cutoff:
                blocks.append(block)
                continue
            if cutoff is not None and block.newest < cutoff:
                continue
            kept = block.kept(keep_of(block))
            if kept is not None:
                blocks.append(kept)
        self._blocks = blocks
        self._samples = sum(len(block) for block in blocks)
