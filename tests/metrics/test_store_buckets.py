"""Folding samples into buckets, merging buckets, and their stored form."""

from __future__ import annotations

import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.metrics.store.buckets import Bucket, decode, encode, fold, merge, to_sample

values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False) | st.integers(-50, 50).map(float)
# Samples as the store reads them: increasing whole-second times, any values.
samples = st.lists(st.tuples(st.integers(1, 900), values), max_size=60).map(
    lambda steps: [
        (1_760_000_000 + sum(gap for gap, _ in steps[: i + 1]), value)
        for i, (_, value) in enumerate(steps)
    ]
)


def naive(
    rows: list[tuple[int, float]], width: int
) -> list[tuple[int, float, float, float, int, float]]:
    groups: dict[int, list[float]] = {}
    for ts, value in rows:
        groups.setdefault(ts // width * width, []).append(value)
    return [
        (start, min(vs), max(vs), statistics.fmean(vs), len(vs), vs[-1])
        for start, vs in sorted(groups.items())
    ]


def comparable(buckets: list[Bucket]) -> list[tuple[int, float, float, float, int, float]]:
    return [(b.start, b.min, b.max, b.sum / b.samples, b.samples, b.last) for b in buckets]


def assert_close(
    got: list[tuple[int, float, float, float, int, float]],
    want: list[tuple[int, float, float, float, int, float]],
) -> None:
    assert [(g[0], g[1], g[2], g[4], g[5]) for g in got] == [
        (w[0], w[1], w[2], w[4], w[5]) for w in want
    ]
    for g, w in zip(got, want, strict=True):
        assert g[3] == pytest.approx(w[3], rel=1e-9, abs=1e-6)


@given(samples)
def test_fold_gives_min_max_mean_count_and_last_per_bucket(rows: list[tuple[int, float]]) -> None:
    assert_close(comparable(fold(rows, 300)), naive(rows, 300))


@given(samples)
def test_hourly_buckets_merged_from_five_minute_ones_equal_those_folded_directly(
    rows: list[tuple[int, float]],
) -> None:
    assert_close(comparable(merge(fold(rows, 300), 3600)), naive(rows, 3600))


@given(samples)
def test_stored_form_gives_back_the_same_bucket(rows: list[tuple[int, float]]) -> None:
    for bucket in fold(rows, 300):
        back = decode(bucket.start, encode(bucket))
        assert to_sample(back) == to_sample(bucket)


def test_a_constant_bucket_is_stored_compactly_and_averages_exactly() -> None:
    bucket = fold([(0, 0.1), (60, 0.1), (120, 0.1)], 300)[0]
    assert encode(bucket) == (0.1, None, None, 3, None)
    sample = to_sample(decode(0, encode(bucket)))
    assert (sample.min, sample.max, sample.avg, sample.last, sample.count) == (
        0.1,
        0.1,
        0.1,
        0.1,
        3,
    )
