"""Many series read at once (`map_series`) answer as each read on its own does."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.metrics.store.core import SeriesStore
from gateway.metrics.store.maintain import COMPACT_EVERY
from gateway.metrics.store.types import Sample, Series, StoreConfig
from gateway.model import Reading
from tests.metrics.test_store_support import Clock, at

HOUR = 3600
T0 = 1_760_000_400 - 1_760_000_400 % COMPACT_EVERY  # a compaction boundary
SERIES = [(f"sw-{n}", "if.in_errors.rate", str(port)) for n in range(20) for port in (1, 2, 3)]


def value(n: int, ts: int) -> float:
    """A different noisy line per series."""
    return n * 10.0 + ts / 3600.0 + (ts * (n + 7)) % 13 / 10


def same(one: Series, many: Series) -> None:
    """Equal but for the sum's last bits (the batch adds in another order)."""
    assert (one.resolution, one.step, len(one)) == (many.resolution, many.step, len(many))
    for a, b in zip(one, many, strict=True):
        assert (a.ts, a.min, a.max, a.last, a.count) == (b.ts, b.min, b.max, b.last, b.count)
        assert math.isclose(a.avg, b.avg, rel_tol=1e-12)


def read_both(
    store: SeriesStore, start: int, end: int, step: timedelta | None
) -> tuple[list[Series], list[Series]]:
    keys = [*SERIES, ("sw-9", "nothing", "")]  # and a series the store never saw
    alone = [store.series(d, p, i, at(start), at(end), step) for d, p, i in keys]
    together = store.map_series(keys, at(start), at(end), step, lambda i, series: series)
    return alone, together


@pytest.fixture
def store(tmp_path: Path) -> SeriesStore:
    # A small index (the least allowed) holds the last hour or so of these series: older
    # recent samples come from the `recent` table. One series per maintenance step,
    # and maintenance only when the test says so.
    config = StoreConfig(
        recent_index_bytes=64 * 1024, series_per_step=4, maintenance_interval=timedelta(days=9)
    )
    return SeriesStore.open(tmp_path / "metrics.db", config=config, clock=Clock(T0))


def feed(store: SeriesStore, start: int, end: int, every: int = 30) -> None:
    clock = store._clock
    assert isinstance(clock, Clock)
    for ts in range(start, end, every):
        clock.now = ts
        store.add([Reading(d, p, value(n, ts), at(ts), i) for n, (d, p, i) in enumerate(SERIES)])


def test_a_batch_reads_raw_recent_index_and_buffer_as_single_reads_do(store: SeriesStore) -> None:
    clock = store._clock
    assert isinstance(clock, Clock)
    feed(store, T0, T0 + 8 * HOUR)
    store.flush()
    store.maintain()  # compacted and downsampled: raw and aggregates hold the first hours
    feed(store, T0 + 8 * HOUR, T0 + 9 * HOUR + 1800)
    store.flush()
    assert store._recent.complete_since is not None  # the index lost the oldest of recent
    # A compaction pass under way: the first series are in raw and still in recent.
    store.maintain(time_slice=0)
    # A straggler in an hour already moved, and a second sent again after its flush.
    store.add([Reading(*SERIES[0][:2], 99.0, at(T0 + HOUR + 15), SERIES[0][2])])
    store.flush()
    resent = T0 + 9 * HOUR + 300
    store.add([Reading(*SERIES[4][:2], -5.0, at(resent), SERIES[4][2])])  # stays buffered
    now = int(clock.now)
    for start, step in (
        (now - 7 * 86400, timedelta(hours=1)),  # a forecast's read
        (now - 30 * 86400, timedelta(hours=30 * 24 / 168)),
        (now - 6 * HOUR, timedelta(minutes=5)),
        (now - 3 * HOUR, timedelta(seconds=90)),
        (now - 2 * HOUR, None),  # raw samples as they are
    ):
        alone, together = read_both(store, start, now, step)
        assert sum(len(s) for s in alone) > len(SERIES)
        for one, many in zip(alone, together, strict=True):
            same(one, many)
    store.close()


def test_use_sees_each_series_in_order_and_keeps_what_it_returns(store: SeriesStore) -> None:
    feed(store, T0, T0 + HOUR)
    now = T0 + HOUR

    def last(i: int, series: Series) -> tuple[int, Sample | None]:
        return i, series.samples[-1] if series else None

    got = store.map_series(SERIES[:3], at(now - HOUR), at(now), timedelta(minutes=10), last)
    assert [i for i, _ in got] == [0, 1, 2]
    assert [s.last if s else None for _, s in got] == [value(n, now - 30) for n in range(3)]
    store.close()
