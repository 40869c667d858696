"""The metric store's in-memory copy of recent samples is bounded in bytes.

It held every sample of the last three hours: 16 bytes each, so a panel whose 4,096
zones (six series each) are polled every second grew the gateway by about half a MB
a second. Past ``StoreConfig.recent_index_bytes`` (``limits.metrics_recent_bytes``)
the oldest samples leave memory; reads of that span come from the file instead.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.metrics.store import SeriesStore, StoreConfig
from gateway.metrics.store.recent import RecentIndex
from gateway.model import Reading

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_the_index_holds_at_most_its_budget() -> None:
    index = RecentIndex(max_bytes=1024 * 1024)
    for second in range(600):
        for series in range(400):
            index.put(series, 1_000_000 + second, float(second))
    assert index.bytes <= 1024 * 1024
    assert index.complete_since is not None
    # The newest samples are still there, and nothing before complete_since is claimed.
    assert index.rows(7, 1_000_599, 1_000_599) == [(1_000_599, 599.0)]
    assert all(ts >= index.complete_since for ts, _ in index.rows(7, 0, 2_000_000))


def test_reads_of_a_span_the_index_dropped_come_from_the_file(tmp_path: Path) -> None:
    clock = [T0.timestamp()]
    config = StoreConfig(recent_index_bytes=256 * 1024, flush_interval=timedelta(seconds=10))
    store = SeriesStore.open(tmp_path / "m.db", config=config, clock=lambda: clock[0])
    try:
        for second in range(0, 1800, 10):
            at = T0 + timedelta(seconds=second)
            clock[0] = at.timestamp()
            store.add(
                Reading("panel", "zone.status", second + zone, at, instance=str(zone))
                for zone in range(200)
            )
        store.flush()
        series = store.series("panel", "zone.status", "7", T0, T0 + timedelta(hours=1))
        assert [s.avg for s in series.samples] == [float(s + 7) for s in range(0, 1800, 10)]
    finally:
        store.close()


# Not a divisor of the rows read at a time: the oldest second loaded is partial.
ZONES = 199


def test_a_restart_loads_only_what_the_budget_holds_and_reads_the_rest_from_the_file(
    tmp_path: Path,
) -> None:
    clock = [T0.timestamp()]
    config = StoreConfig(recent_index_bytes=256 * 1024)
    path = tmp_path / "m.db"
    store = SeriesStore.open(path, config=config, clock=lambda: clock[0])
    try:
        for second in range(0, 1800, 10):
            at = T0 + timedelta(seconds=second)
            clock[0] = at.timestamp()
            store.add(
                Reading("panel", "zone.status", second + zone, at, instance=str(zone))
                for zone in range(ZONES)
            )
    finally:
        store.close()  # 35,820 samples in `recent`: 700 KB in memory, over the budget
    index = RecentIndex.load(sqlite3.connect(path), 256 * 1024)
    assert index.complete_since is not None
    assert index.bytes <= 256 * 1024 * 3 // 4
    last = int((T0 + timedelta(seconds=1790)).timestamp())
    assert index.rows(8, last, last) == [(last, 1797.0)]  # zone 7 (number 8): the newest held
    store = SeriesStore.open(path, config=config, clock=lambda: clock[0])
    try:
        for zone in range(ZONES):  # the oldest second loaded is partial: every zone read
            series = store.series("panel", "zone.status", str(zone), T0, T0 + timedelta(hours=1))
            assert [s.avg for s in series.samples] == [float(s + zone) for s in range(0, 1800, 10)]
    finally:
        store.close()
