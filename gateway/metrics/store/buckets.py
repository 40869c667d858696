"""Folding samples into aggregate buckets, and the compact form buckets are stored in.

Pure functions, no I/O. Times are whole seconds since the epoch; a bucket of width W
starts at a multiple of W and holds the samples with ``start <= ts < start + W``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from gateway.metrics.store.types import Sample, to_datetime

# A stored aggregate row without its key: min, max, sum, count, last. Max, sum and last
# are NULL when every sample of the bucket had the same value (see `encode`).
StoredBucket = tuple[float, float | None, float | None, int, float | None]


class Bucket(NamedTuple):
    start: int
    min: float
    max: float
    sum: float
    samples: int  # how many samples it holds
    last: float  # the value of the newest sample in the bucket


def fold(rows: Iterable[tuple[int, float]], width: int) -> list[Bucket]:
    """Buckets of ``width`` seconds over ``(ts, value)`` rows given oldest first."""
    out: list[Bucket] = []
    start = -1
    low = high = total = last = 0.0
    count = 0
    for ts, value in rows:
        bucket = ts - ts % width
        if bucket != start:
            if count:
                out.append(Bucket(start, low, high, total, count, last))
            start, low, high, total, count = bucket, value, value, value, 1
        else:
            low = min(low, value)
            high = max(high, value)
            total += value
            count += 1
        last = value
    if count:
        out.append(Bucket(start, low, high, total, count, last))
    return out


def merge(buckets: Iterable[Bucket], width: int) -> list[Bucket]:
    """Coarser buckets of ``width`` seconds (a multiple of theirs) over buckets given
    oldest first."""
    out: list[Bucket] = []
    current: Bucket | None = None
    for b in buckets:
        start = b.start - b.start % width
        if current is None or current.start != start:
            if current is not None:
                out.append(current)
            current = b._replace(start=start)
        else:
            current = Bucket(
                start,
                min(current.min, b.min),
                max(current.max, b.max),
                current.sum + b.sum,
                current.samples + b.samples,
                b.last,
            )
    if current is not None:
        out.append(current)
    return out


def encode(b: Bucket) -> StoredBucket:
    """The stored columns of ``b``. A bucket whose samples were all equal (a state that
    did not change: most buckets of most points) keeps only min and count; its row is
    about half the size."""
    if b.min == b.max:
        return (b.min, None, None, b.samples, None)
    return (b.min, b.max, b.sum, b.samples, b.last)


def decode(start: int, stored: StoredBucket) -> Bucket:
    low, high, total, count, last = stored
    if high is None or total is None or last is None:
        return Bucket(start, low, low, low * count, count, low)
    return Bucket(start, low, high, total, count, last)


def to_sample(b: Bucket) -> Sample:
    # All samples equal: the average is exactly that value, not sum / count rounded.
    avg = b.min if b.min == b.max else min(b.max, max(b.min, b.sum / b.samples))
    return Sample(to_datetime(b.start), b.min, b.max, avg, b.last, b.samples)


def raw_sample(ts: int, value: float) -> Sample:
    return Sample(to_datetime(ts), value, value, value, value, 1)
