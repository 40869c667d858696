"""The embedded store's queries: resolution by range, empty answers, what is stored."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.metrics.store.core import SeriesStore
from gateway.metrics.store.errors import StoreCorruptError, StoreError, StoreReadOnlyError
from gateway.metrics.store.maintain import COMPACT_EVERY
from gateway.metrics.store.types import Resolution, Sample, StoreConfig
from gateway.model import Quality, Reading
from tests.metrics.test_store_support import Clock, at

T0 = 1_760_000_400  # a whole hour
HOUR = 3600


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[SeriesStore]:
    opened = SeriesStore.open(tmp_path / "metrics.db", clock=clock)
    try:
        yield opened
    finally:
        opened.close()


def feed(store: SeriesStore, clock: Clock, hours: int, every: int = 60) -> None:
    """One UPS reporting its battery voltage every ``every`` seconds for ``hours``."""
    for ts in range(int(clock.now), int(clock.now) + hours * HOUR, every):
        clock.now = ts
        store.add([Reading("ups-1", "battery.voltage", 13.0 + (ts % 7) / 10, at(ts))])
    clock.now += every


def test_the_range_chooses_the_resolution(store: SeriesStore, clock: Clock) -> None:
    feed(store, clock, hours=72, every=300)
    store.maintain()
    now = clock.now

    def resolution(start: float, step: timedelta | None = None) -> tuple[Resolution, int]:
        got = store.series("ups-1", "battery.voltage", None, at(start), at(now), step)
        assert got, f"no samples from {at(start)}"
        return got.resolution, int(got.step.total_seconds())

    assert resolution(now - HOUR) == (Resolution.RAW, 0)
    assert resolution(now - 47 * HOUR) == (Resolution.RAW, 0)
    assert resolution(now - 50 * HOUR) == (Resolution.FIVE_MINUTES, 300)
    # A step asks for buckets: the coarsest resolution whose buckets fit in one.
    assert resolution(now - 2 * HOUR, timedelta(hours=1)) == (Resolution.HOUR, 3600)
    assert resolution(now - 2 * HOUR, timedelta(minutes=10)) == (Resolution.FIVE_MINUTES, 600)
    assert resolution(now - 2 * HOUR, timedelta(minutes=7)) == (Resolution.FIVE_MINUTES, 600)
    assert resolution(now - 2 * HOUR, timedelta(seconds=90)) == (Resolution.RAW, 90)
    # Beyond the raw window a step finer than 5 minutes cannot be had.
    assert resolution(now - 60 * HOUR, timedelta(seconds=90)) == (Resolution.FIVE_MINUTES, 300)
    # Beyond the 90 days of 5-minute aggregates only hourly ones remain.
    old = store.series("ups-1", "battery.voltage", None, at(now - 91 * 86400), at(now))
    assert old.resolution is Resolution.HOUR
    assert len(old) == 72  # the hours fed


def test_buckets_are_folded_from_raw_samples_with_a_step(store: SeriesStore, clock: Clock) -> None:
    values = [1.0, 5.0, 2.0, 2.5]  # at 0, 20, 40, 70 s past the minute
    for offset, value in zip((0, 20, 40, 70), values, strict=True):
        clock.now = T0 + offset
        store.add([Reading("ups-1", "load", value, at(clock.now))])
    got = store.series("ups-1", "load", "", at(T0), at(T0 + 70), timedelta(minutes=1))
    assert got.resolution is Resolution.RAW
    assert list(got) == [
        Sample(at(T0), 1.0, 5.0, pytest.approx(8 / 3), 2.0, 3),  # type: ignore[arg-type]
        Sample(at(T0 + 60), 2.5, 2.5, 2.5, 2.5, 1),
    ]


def test_empty_answers_are_empty_not_errors(store: SeriesStore, clock: Clock) -> None:
    assert store.devices() == []
    assert store.points("nobody") == []
    assert store.instances("nobody", "rtt") == []
    assert store.latest("nobody", "rtt") is None
    for start in (T0 - HOUR, T0 - 60 * HOUR, T0 - 200 * 86400):
        got = store.series("nobody", "rtt", None, at(start), at(T0))
        assert not got
        assert list(got) == []
    store.add([Reading("sw-1", "rtt", 1.5, at(T0))])
    assert not store.series("sw-1", "rtt", None, at(T0 - 2 * HOUR), at(T0 - HOUR))
    assert not store.series("sw-1", "rtt", None, at(T0), at(T0 - 1))  # end before start
    assert not store.series("sw-1", "rtt", "7", at(T0 - HOUR), at(T0))  # no such instance


def test_reads_see_samples_not_yet_flushed(tmp_path: Path, clock: Clock) -> None:
    config = StoreConfig(flush_interval=timedelta(hours=1))
    store = SeriesStore.open(tmp_path / "metrics.db", config=config, clock=clock)
    try:
        store.add([Reading("nvr-1", "disk.used", 41.0, at(T0), instance="2")])
        assert store.stats().buffered == 1
        latest = store.latest("nvr-1", "disk.used", "2")
        assert latest == Sample(at(T0), 41.0, 41.0, 41.0, 41.0, 1)
        assert [s.last for s in store.series("nvr-1", "disk.used", "2", at(T0), at(T0))] == [41.0]
        assert store.instances("nvr-1", "disk.used") == ["2"]
        assert store.flush() == 1
        assert store.latest("nvr-1", "disk.used", "2") == latest
    finally:
        store.close()


def test_only_measured_numbers_are_stored(store: SeriesStore, clock: Clock) -> None:
    now = at(T0)
    readings = [
        Reading("sw-1", "reachable", True, now),
        Reading("sw-1", "if.errors", 12, now, instance="3"),
        Reading("sw-1", "temp", 41.5, now),
        Reading("sw-1", "descr", "Switch 24p", now),  # text
        Reading("sw-1", "if.oper", "up", now, instance="3"),  # a state the caller did not map
        Reading("sw-1", "fan", None, now),
        Reading("sw-1", "volts", math.nan, now),
        Reading("sw-1", "psu", 1, now, quality=Quality.STALE),  # repeats an old value
        Reading("sw-1", "psu", 7, now, quality=Quality.BAD),
    ]
    assert store.add(readings) == 3
    assert store.points("sw-1") == ["if.errors", "reachable", "temp"]
    assert store.latest("sw-1", "reachable") == Sample(now, 1.0, 1.0, 1.0, 1.0, 1)
    got = store.latest("sw-1", "if.errors", "3")
    assert got is not None and got.last == 12.0
    assert store.stats().skipped == {
        "text": 2,
        "no_value": 1,
        "not_finite": 1,
        "quality_stale": 1,
        "quality_bad": 1,
    }


def test_samples_too_old_or_from_the_future_are_dropped_and_counted(
    store: SeriesStore,
) -> None:
    kept = store.add(
        [
            Reading("ups-1", "load", 1.0, at(T0 - 49 * HOUR)),  # beyond the raw window
            Reading("ups-1", "load", 2.0, at(T0 + HOUR)),  # a clock far ahead
            Reading("ups-1", "load", 3.0, at(T0 - 47 * HOUR)),
        ]
    )
    assert kept == 1
    assert store.stats().dropped == {"too_old": 1, "future": 1}
    got = store.series("ups-1", "load", None, at(T0 - 60 * HOUR), at(T0 + 2 * HOUR), None)
    assert [s.last for s in got] == [3.0]


def test_a_second_sample_in_the_same_second_replaces_the_first(
    store: SeriesStore,
) -> None:
    store.add([Reading("ups-1", "load", 1.0, at(T0 + 0.2))])
    store.flush()
    store.add([Reading("ups-1", "load", 2.0, at(T0 + 0.7))])
    got = store.series("ups-1", "load", None, at(T0 - 1), at(T0 + 1))
    assert [(s.ts, s.last) for s in got] == [(at(T0), 2.0)]


def test_a_late_sample_is_folded_into_aggregates_already_written(
    store: SeriesStore, clock: Clock
) -> None:
    feed(store, clock, hours=10, every=600)
    store.maintain()
    stats = store.stats()
    assert stats.downsampled_until is not None
    hour = T0 + HOUR
    assert at(hour) < stats.downsampled_until  # that hour's aggregates are stored
    store.add([Reading("ups-1", "battery.voltage", 99.0, at(hour + 30))])  # a straggler
    store.flush()
    clock.now += COMPACT_EVERY  # compacted at the next boundary, its hour redone
    store.maintain()
    got = store.series("ups-1", "battery.voltage", None, at(hour), at(hour), timedelta(hours=1))
    assert got.resolution is Resolution.HOUR
    (bucket,) = got
    assert (bucket.max, bucket.count) == (99.0, 7)
    five = store.series(
        "ups-1", "battery.voltage", None, at(hour), at(hour + 299), timedelta(minutes=5)
    )
    on_time = 13.0 + (hour % 7) / 10  # what feed() gave at the start of the hour
    assert [(s.min, s.max, s.last, s.count) for s in five] == [(on_time, 99.0, 99.0, 2)]


def test_naive_times_are_refused(store: SeriesStore) -> None:
    with pytest.raises(ValueError, match="naive"):
        store.add([Reading("ups-1", "load", 1.0, datetime(2026, 1, 1))])


def test_a_read_only_store_sees_what_was_flushed_and_refuses_writes(
    tmp_path: Path, store: SeriesStore
) -> None:
    store.add([Reading("ups-1", "load", 1.0, at(T0))])
    store.flush()
    reader = SeriesStore.open(store.path, clock=lambda: T0, read_only=True)
    try:
        assert reader.devices() == ["ups-1"]
        latest = reader.latest("ups-1", "load")
        assert latest is not None and latest.last == 1.0
        with pytest.raises(StoreReadOnlyError):
            reader.add([Reading("ups-1", "load", 2.0, at(T0))])
    finally:
        reader.close()
    with pytest.raises(StoreError, match="no metric store"):
        SeriesStore.open(tmp_path / "absent.db", read_only=True)


def test_a_file_that_is_not_a_metric_store_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreCorruptError, match="not an lvgw metric store"):
        SeriesStore.open(other)
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all, just some words " * 50)
    with pytest.raises(StoreCorruptError):
        SeriesStore.open(text)


def test_a_straggler_during_a_compaction_pass_is_not_lost(tmp_path: Path, clock: Clock) -> None:
    # One series per compaction step, and maintenance only when the test says so.
    config = StoreConfig(series_per_step=1, maintenance_interval=timedelta(days=1))
    store = SeriesStore.open(tmp_path / "metrics.db", config=config, clock=clock)
    try:
        base = T0 - T0 % COMPACT_EVERY
        for ts in range(base, base + COMPACT_EVERY, 600):
            clock.now = ts
            store.add([Reading(device, "load", 1.0, at(ts)) for device in ("ups-1", "ups-2")])
        clock.now = base + COMPACT_EVERY + 600
        store.flush()
        store.maintain(time_slice=0)  # one step: ups-1's samples copied to raw
        store.add([Reading("ups-1", "load", 99.0, at(base + 30))])  # arrives now
        store.flush()
        store.maintain()
        got = store.series("ups-1", "load", None, at(base), at(base + 60))
        assert [(s.ts, s.last) for s in got] == [(at(base), 1.0), (at(base + 30), 99.0)]
    finally:
        store.close()
