"""The embedded store's values: what a query returns, how the store is sized, its tallies.

See docs/embedded-store.md for what the settings mean on an SD card.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from gateway.model import Quality, Reading

# Seconds since the epoch, like time.time; injected so tests can run 90 days at once.
Clock = Callable[[], float]

MIB = 1024 * 1024


class Resolution(enum.IntEnum):
    """How finely a stretch of history is kept: the value is the bucket width in seconds."""

    RAW = 0  # every sample as it was measured
    FIVE_MINUTES = 300
    HOUR = 3600

    @property
    def width(self) -> timedelta:
        return timedelta(seconds=int(self))


@dataclass(frozen=True, slots=True)
class Sample:
    """One raw sample (all values equal, count 1) or one aggregate bucket.

    ``ts`` is the sample's time, or the start of the bucket; ``last`` is the value of
    the bucket's newest sample.
    """

    ts: datetime
    min: float
    max: float
    avg: float
    last: float
    count: int


@dataclass(frozen=True, slots=True)
class Series:
    """What `series()` returns: samples oldest first, at one resolution."""

    resolution: Resolution  # where the samples came from
    step: timedelta  # bucket width of the samples; zero for raw samples
    samples: tuple[Sample, ...] = ()

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.samples)

    def __len__(self) -> int:
        return len(self.samples)

    def __bool__(self) -> bool:
        return bool(self.samples)


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """Retention, disk budget and batching of the embedded store.

    The retentions are maxima: when the data outgrows ``budget_bytes`` the oldest
    five-minute aggregates go first, then the oldest hourly ones, then raw samples,
    each never below its floor (docs/embedded-store.md, "Disk budget").
    """

    raw_retention: timedelta = timedelta(hours=48)
    five_minute_retention: timedelta = timedelta(days=90)
    hour_retention: timedelta = timedelta(days=400)
    budget_bytes: int = 1280 * MIB  # full retention for 1,000 series: docs/embedded-store.md
    flush_interval: timedelta = timedelta(seconds=60)  # the most a crash can lose
    flush_samples: int = 5000  # flush early once this many samples are buffered
    maintenance_interval: timedelta = timedelta(minutes=5)
    series_per_step: int = 100  # bounds the work of one maintenance step
    max_buffered_samples: int = 200_000  # beyond this, new samples are dropped (counted)
    # Memory for the recent samples' index (recent.py); older ones are read from the file.
    recent_index_bytes: int = 16 * MIB

    def __post_init__(self) -> None:
        hour = timedelta(hours=1)
        if self.raw_retention < 12 * hour or self.raw_retention % hour:
            raise ValueError("raw_retention must be whole hours, at least 12")
        if not self.raw_retention < self.five_minute_retention <= self.hour_retention:
            raise ValueError("retentions must grow: raw < five-minute <= hour")
        if self.budget_bytes < 4 * MIB:
            raise ValueError("budget_bytes must be at least 4 MiB")
        if self.flush_interval <= timedelta(0) or self.maintenance_interval <= timedelta(0):
            raise ValueError("flush_interval and maintenance_interval must be positive")
        if self.recent_index_bytes < 64 * 1024:
            raise ValueError("recent_index_bytes must be at least 64 KiB")
        if min(self.flush_samples, self.series_per_step, self.max_buffered_samples) < 1:
            raise ValueError("flush_samples, series_per_step, max_buffered_samples must be >= 1")


@dataclass(frozen=True, slots=True)
class StoreStats:
    """The store's state for the gateway's own health metrics and the status view."""

    series: int
    buffered: int  # samples not yet flushed: what a crash would lose
    flushes: int  # transactions that committed samples, since open
    stored: int  # samples committed since open
    skipped: Mapping[str, int]  # by design: not numeric, not measured (since open)
    dropped: Mapping[str, int]  # lost: too old, from the future, buffer overflow
    file_bytes: int  # the database file
    wal_bytes: int  # its write-ahead log
    free_bytes: int  # pages inside the file that new data reuses
    budget_bytes: int
    over_budget: bool  # still above the budget with every tier at its floor
    kept_from: Mapping[Resolution, datetime | None] = field(default_factory=dict)
    downsampled_until: datetime | None = None


def numeric_value(reading: Reading) -> float | None:
    """The number the store keeps for ``reading``, or None when it keeps nothing.

    bool -> 0/1, int and float as they are; text states (unless a caller mapped them
    to numbers), None, NaN and infinities are not stored, nor are readings that were
    not measured this time (STALE repeats an old value, BAD could not be decoded).
    """
    return _numeric(reading.value) if reading.quality is Quality.GOOD else None


def skip_reason(reading: Reading) -> str:
    """Why `numeric_value` gave None for ``reading``: a key of `StoreStats.skipped`."""
    if reading.quality is not Quality.GOOD:
        return f"quality_{reading.quality.value}"
    if reading.value is None:
        return "no_value"
    if isinstance(reading.value, str):
        return "text"
    return "not_finite"


def _numeric(value: object) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def to_datetime(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def to_epoch(when: datetime) -> int:
    """Whole seconds since the epoch (floored), for an aware datetime."""
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when!r}: the store needs aware UTC times")
    return math.floor(when.timestamp())
