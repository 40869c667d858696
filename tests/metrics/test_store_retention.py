"""Retention and downsampling of the embedded store over 93 simulated days of a
100-device site.

Scale covered: 100 devices with two points each (200 series; `make check` feeds the
first 10 devices, LVGW_QUICK_EXAMPLES=1, the same days and schedule): ``temp``, a float that
changes at every sample, and ``link``, a 0/1 state that holds for a day at a time (the
compact form of constant buckets). Up to 50 h before the end each series gets a burst
of three samples a minute apart every 6 hours, so that a 5-minute bucket has several
samples to aggregate; in the last 50 h ``temp`` comes every 3 minutes and ``link``
every 15. That is about 340,000 samples fed through ``add`` with the clock following
the data and maintenance running by itself whenever the clock says it is due (about
34,000 with 10 devices). A real
site polls every 30 s: bench/store_wear.py runs that rate for an hour.

Expected values are computed here from the generated samples, independently of the
store's own folding.
"""

from __future__ import annotations

import sqlite3
import statistics
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.metrics.store.core import SeriesStore
from gateway.metrics.store.maintain import COMPACT_EVERY, PRUNE_STEP
from gateway.metrics.store.types import MIB, Resolution, Sample, StoreConfig
from gateway.model import Reading
from tests.examples import QUICK
from tests.metrics.test_store_support import Clock, at

DAY = 86_400
HOUR = 3_600
START = 1_750_032_000  # midnight UTC
END = START + 93 * DAY + 7 * HOUR + 1_234
DENSE_FROM = END - 50 * HOUR
COUNT = 10 if QUICK else 100
DEVICES = [f"dev-{n:03d}" for n in range(COUNT)]
BUDGET = 32 * MIB


def spread(*of_a_hundred: int) -> list[int]:
    """Devices at the same places in the fleet whatever its size (99 is the last)."""
    return [n * COUNT // 100 for n in of_a_hundred]


def temp(device: int, ts: int) -> float:
    return 15 + device % 10 + ((ts * 2_654_435_761 + device * 97) % 1000) / 100


def link(device: int, ts: int) -> int:
    return 1 if (ts // DAY + device) % 4 else 0


def schedule() -> Iterator[tuple[int, bool, bool]]:
    """(ts, temp due, link due), oldest first."""
    for burst in range(START, DENSE_FROM, 6 * HOUR):
        for k in range(3):
            yield burst + 60 * k, True, True
    first = DENSE_FROM + (-DENSE_FROM) % 180
    for ts in range(first, END + 1, 180):
        yield ts, True, ts % 900 == 0


def generated(device: int, point: str, start: int, end: int) -> list[tuple[int, float]]:
    """What was fed for one series with ``start <= ts <= end``."""
    out: list[tuple[int, float]] = []
    for ts, temp_due, link_due in schedule():
        if start <= ts <= end:
            if point == "temp" and temp_due:
                out.append((ts, temp(device, ts)))
            elif point == "link" and link_due:
                out.append((ts, float(link(device, ts))))
    return out


def expected_buckets(samples: list[tuple[int, float]], width: int) -> list[Sample]:
    groups: dict[int, list[float]] = {}
    for ts, value in samples:
        groups.setdefault(ts - ts % width, []).append(value)
    return [
        Sample(
            datetime.fromtimestamp(start, UTC),
            min(values),
            max(values),
            statistics.fmean(values),
            values[-1],
            len(values),
        )
        for start, values in sorted(groups.items())
    ]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SeriesStore, Path]]:
    """The store after the 93 days, maintenance caught up; read-only from here on."""
    path = tmp_path_factory.mktemp("store") / "metrics.db"
    clock = Clock(START)
    store = SeriesStore.open(path, config=StoreConfig(budget_bytes=BUDGET), clock=clock)
    try:
        for ts, temp_due, link_due in schedule():
            clock.now = ts
            when = at(ts)
            readings = []
            for n, device in enumerate(DEVICES):
                if temp_due:
                    readings.append(Reading(device, "temp", temp(n, ts), when, unit="Cel"))
                if link_due:
                    readings.append(Reading(device, "link", bool(link(n, ts)), when))
            store.add(readings)
        store.maintain()
        yield store, path
    finally:
        store.close()


def assert_same(got: list[Sample], want: list[Sample]) -> None:
    assert [s.ts for s in got] == [s.ts for s in want]
    for g, w in zip(got, want, strict=True):
        assert (g.min, g.max, g.last, g.count) == (w.min, w.max, w.last, w.count), g.ts
        assert g.avg == pytest.approx(w.avg, rel=1e-12), g.ts


@pytest.mark.parametrize("device", spread(0, 37, 99))
def test_the_last_two_days_are_raw_samples_exactly_as_added(
    site: tuple[SeriesStore, Path], device: int
) -> None:
    store, _ = site
    start = END - 47 * HOUR
    for point in ("temp", "link"):
        got = store.series(DEVICES[device], point, None, at(start), at(END))
        assert got.resolution is Resolution.RAW
        want = generated(device, point, start, END)
        assert [(s.ts, s.last, s.count) for s in got] == [(at(t), v, 1) for t, v in want]


@pytest.mark.parametrize("device", spread(13, 64))
def test_older_ranges_are_five_minute_aggregates_of_the_samples(
    site: tuple[SeriesStore, Path], device: int
) -> None:
    store, _ = site
    for point in ("temp", "link"):
        # Well inside the 90 days: stored aggregates only.
        start, end = END - 80 * DAY, END - 78 * DAY
        got = store.series(DEVICES[device], point, "", at(start), at(end))
        assert got.resolution is Resolution.FIVE_MINUTES
        assert got.step == timedelta(minutes=5)
        want = expected_buckets(generated(device, point, start - start % 300, end), 300)
        assert len(want) == 8  # a burst every 6 hours, two days
        assert_same(list(got), want)
        # Three days to now: stored aggregates, then buckets folded from raw samples.
        start = END - 3 * DAY
        got = store.series(DEVICES[device], point, "", at(start), at(END))
        assert got.resolution is Resolution.FIVE_MINUTES
        want = expected_buckets(generated(device, point, start - start % 300, END), 300)
        assert_same(list(got), want)


def test_beyond_ninety_days_only_hourly_aggregates_remain(
    site: tuple[SeriesStore, Path],
) -> None:
    store, _ = site
    (device,) = spread(42)
    start, end = END - 92 * DAY, END - 85 * DAY
    got = store.series(DEVICES[device], "temp", None, at(start), at(end))
    assert got.resolution is Resolution.HOUR
    want = expected_buckets(generated(device, "temp", start - start % HOUR, end), HOUR)
    assert_same(list(got), want)
    # The same week asked for in hourly steps, and in daily steps, from the coarsest
    # resolution that fits.
    week = store.series(DEVICES[device], "temp", None, at(start), at(end), timedelta(hours=1))
    assert list(week) == list(got)
    days = store.series(DEVICES[device], "temp", None, at(start), at(end), timedelta(days=1))
    assert days.step == timedelta(days=1)
    assert_same(
        list(days),
        expected_buckets(
            generated(device, "temp", start - start % DAY, end - end % DAY + DAY - 1), DAY
        ),
    )


def test_retention_removed_what_is_older_than_each_tier_keeps(
    site: tuple[SeriesStore, Path],
) -> None:
    store, path = site
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:

        def oldest(table: str) -> int:
            return int(conn.execute(f"SELECT min(ts) FROM {table}").fetchone()[0])

        # Pruning runs in steps (6 h for raw, a day for aggregates), so a tier holds
        # up to one step more than its retention; never less.
        raw_cut = END - 48 * HOUR
        assert raw_cut - PRUNE_STEP[Resolution.RAW] <= oldest("raw") <= raw_cut
        five_cut = END - 90 * DAY
        assert five_cut - PRUNE_STEP[Resolution.FIVE_MINUTES] <= oldest("agg_5m") <= five_cut
        assert oldest("agg_1h") == START  # 400 days: nothing is old enough yet
        # Only the 3 hours in progress (and the grace after them) wait in `recent`.
        assert oldest("recent") >= END - END % COMPACT_EVERY - COMPACT_EVERY
    finally:
        conn.close()
    stats = store.stats()
    assert stats.file_bytes + stats.wal_bytes <= BUDGET
    assert not stats.over_budget
    assert stats.dropped == {}
    assert stats.series == 2 * COUNT


def test_the_site_is_listed(site: tuple[SeriesStore, Path]) -> None:
    store, _ = site
    assert store.devices() == DEVICES
    assert store.points("dev-007") == ["link", "temp"]
    assert store.instances("dev-007", "temp") == [""]
    latest = store.latest("dev-007", "link")
    assert latest is not None
    last_link = max(ts for ts, _, due in schedule() if due)
    assert (latest.ts, latest.last) == (at(last_link), float(link(7, last_link)))
