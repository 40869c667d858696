"""Samples waiting in memory for the next flush, and the flush itself.

One flush is one transaction: new series rows, the samples appended to ``recent`` in
time order, and each series' newest sample in ``latest``. Between flushes a crash
loses what is buffered here and nothing else.
"""

from __future__ import annotations

import sqlite3

from gateway.metrics.store.db import Meta, transaction
from gateway.metrics.store.recent import RecentIndex
from gateway.metrics.store.series import SeriesRegistry

_INSERT_RECENT = "INSERT OR REPLACE INTO recent (ts, series_id, value) VALUES (?, ?, ?)"
_UPSERT_LATEST = (
    "INSERT INTO latest (series_id, ts, value) VALUES (?, ?, ?)"
    " ON CONFLICT (series_id) DO UPDATE SET ts = excluded.ts, value = excluded.value"
    " WHERE excluded.ts >= latest.ts"
)


class WriteBuffer:
    def __init__(self) -> None:
        # Keyed by (ts, series id): a second sample of a series in the same second
        # replaces the first, as it does once stored.
        self._samples: dict[tuple[int, int], float] = {}
        # Each series' newest sample, made when asked (queries, pruning), not at every
        # put: polls add thousands of samples a second. None: to be made again.
        self._newest: dict[int, tuple[int, float]] | None = {}

    def __len__(self) -> int:
        return len(self._samples)

    def put(self, ts: int, series_id: int, value: float) -> None:
        self._samples[(ts, series_id)] = value
        self._newest = None

    def oldest(self) -> int | None:
        """The time of the oldest buffered sample."""
        return min((ts for ts, _ in self._samples), default=None)

    def newest(self, series_id: int) -> tuple[int, float] | None:
        return self._newest_by_series().get(series_id)

    def _newest_by_series(self) -> dict[int, tuple[int, float]]:
        newest = self._newest
        if newest is None:
            newest = self._newest = {}
            for (ts, sid), value in self._samples.items():
                held = newest.get(sid)
                if held is None or ts >= held[0]:
                    newest[sid] = (ts, value)
        return newest

    def rows(self, series_id: int, start: int, end: int) -> dict[int, float]:
        """The buffered samples of one series with ``start <= ts <= end``, by time."""
        return {
            ts: value
            for (ts, sid), value in self._samples.items()
            if sid == series_id and start <= ts <= end
        }

    def by_series(self, ids: set[int]) -> dict[int, dict[int, float]]:
        """The buffered samples of the series ``ids``, grouped by series, by time."""
        grouped: dict[int, dict[int, float]] = {}
        for (ts, sid), value in self._samples.items():
            if sid in ids:
                grouped.setdefault(sid, {})[ts] = value
        return grouped

    def flush(
        self,
        conn: sqlite3.Connection,
        meta: Meta,
        registry: SeriesRegistry,
        recent: RecentIndex,
    ) -> int:
        """Commit everything buffered in one transaction; how many samples it stored.

        On an error nothing is committed and everything stays buffered.
        """
        if not self._samples:
            return 0
        rows = sorted((ts, sid, value) for (ts, sid), value in self._samples.items())
        held = self._newest
        if held is None:  # in time order, a series' last row is its newest
            held = {sid: (ts, value) for ts, sid, value in rows}
        newest = [(sid, ts, value) for sid, (ts, value) in held.items()]
        with transaction(conn, meta):
            registry.write_new(conn)
            conn.executemany(_INSERT_RECENT, rows)
            conn.executemany(_UPSERT_LATEST, newest)
        registry.written()
        recent.put_many(rows)
        self._samples.clear()
        self._newest = {}
        return len(rows)
