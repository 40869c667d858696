"""The disk budget: when the data outgrows it, the oldest 5-minute aggregates give way.

Scale: 12 series with a sample every 5 minutes for 45 days (155,000 samples) into the
smallest budget the store accepts, 4 MiB: the 5-minute aggregates alone would need
about twice that, so the store must trim them (and only them) to stay under it.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from datetime import timedelta

import pytest

from gateway.metrics.store.core import SeriesStore
from gateway.metrics.store.types import MIB, Resolution, StoreConfig
from gateway.model import Reading
from tests.metrics.test_store_support import Clock, at

DAY = 86_400
HOUR = 3_600
START = 1_750_032_000
END = START + 45 * DAY
SERIES = [(f"ups-{d}", point) for d in range(3) for point in ("load", "temp", "volts", "amps")]
BUDGET = 4 * MIB


def value(index: int, ts: int) -> float:
    return ((ts * 48_271 + index * 7_919) % 10_007) / 100


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeriesStore]:
    clock = Clock(START)
    path = tmp_path_factory.mktemp("budget") / "metrics.db"
    # Maintenance hourly rather than every 5 minutes: the samples come every 5 minutes
    # of simulated time, so the default would run it (and flush) at every `add`.
    config = StoreConfig(
        budget_bytes=BUDGET,
        flush_interval=timedelta(minutes=30),
        maintenance_interval=timedelta(hours=1),
    )
    opened = SeriesStore.open(path, config=config, clock=clock)
    try:
        for ts in range(START, END, 300):
            clock.now = ts
            when = at(ts)
            opened.add(
                [
                    Reading(device, point, value(i, ts), when)
                    for i, (device, point) in enumerate(SERIES)
                ]
            )
        opened.maintain()
        yield opened
    finally:
        opened.close()


def test_the_file_stays_under_the_budget(store: SeriesStore) -> None:
    stats = store.stats()
    assert stats.file_bytes + stats.wal_bytes <= BUDGET
    assert not stats.over_budget


def test_the_oldest_five_minute_aggregates_gave_way_and_nothing_else(
    store: SeriesStore,
) -> None:
    kept = store.stats().kept_from
    five = kept[Resolution.FIVE_MINUTES]
    assert five is not None
    # Trimmed: far less than the 45 days fed, never below the 7-day floor.
    assert at(END - 40 * DAY) < five <= at(END - 7 * DAY)
    hour = kept[Resolution.HOUR]
    assert hour is not None and hour <= at(START)  # hourly aggregates untouched
    raw = kept[Resolution.RAW]
    assert raw is not None and raw <= at(END - 48 * HOUR)


def test_queries_fall_back_to_hourly_aggregates_where_five_minute_ones_are_gone(
    store: SeriesStore,
) -> None:
    index = 5
    device, point = SERIES[index]
    start, end = START + 2 * DAY, START + 3 * DAY - 1
    got = store.series(device, point, None, at(start), at(end))
    assert got.resolution is Resolution.HOUR
    assert len(got) == 24
    for bucket in got:
        t0 = int(bucket.ts.timestamp())
        values = [value(index, ts) for ts in range(t0, t0 + HOUR, 300)]
        assert (bucket.min, bucket.max, bucket.last, bucket.count) == (
            min(values),
            max(values),
            values[-1],
            12,
        )
        assert bucket.avg == pytest.approx(statistics.fmean(values), rel=1e-12)
    # Where they are kept, the same range is in 5-minute buckets.
    recent = store.series(device, point, None, at(END - 5 * DAY), at(END - 4 * DAY))
    assert recent.resolution is Resolution.FIVE_MINUTES
    assert [s.last for s in recent] == [
        value(index, ts) for ts in range(END - 5 * DAY, END - 4 * DAY + 1, 300)
    ]
    assert recent.step == timedelta(minutes=5)
