"""The one reconnect backoff (drivers/backoff.py): doubling, cap, jitter, reset."""

from __future__ import annotations

import random
from typing import Any

import pytest

from drivers.backoff import Backoff


def test_delays_double_up_to_the_cap_and_reset_on_success() -> None:
    backoff = Backoff(0.5, 4.0, jitter=0.0)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_jitter_shortens_each_delay_by_at_most_its_fraction() -> None:
    draws = iter([0.0, 1.0, 0.5])
    backoff = Backoff(1.0, 100.0, jitter=0.25, rng=lambda: next(draws))
    assert [backoff.next_delay() for _ in range(3)] == [1.0, 1.5, 3.5]


def test_full_jitter_spreads_down_to_half_the_first_delay() -> None:
    draws = iter([1.0, 1.0, 0.0])
    backoff = Backoff(1.0, 100.0, jitter=1.0, rng=lambda: next(draws))
    assert [backoff.next_delay() for _ in range(3)] == [0.5, 0.5, 4.0]


def test_full_jitter_grows_to_the_cap_without_lock_step() -> None:
    backoff = Backoff(1.0, 8.0, rng=random.Random(1).random)
    delays = [backoff.next_delay() for _ in range(12)]
    assert all(0.5 <= d <= 8.0 for d in delays)
    assert max(delays[6:]) > 4.0  # it grew
    assert len({round(d, 6) for d in delays}) == len(delays)  # jittered, not lock-step
    backoff.reset()
    assert backoff.next_delay() <= 1.0


def test_a_link_down_for_weeks_stays_at_the_cap() -> None:
    backoff = Backoff(0.1, 30.0, jitter=0.0)
    for _ in range(5000):
        delay = backoff.next_delay()
    assert delay == 30.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial": 0},
        {"initial": 5, "maximum": 1},
        {"factor": 0.5},
        {"jitter": 1.5},
        {"jitter": -0.1},
    ],
)
def test_nonsense_settings_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="backoff needs"):
        Backoff(**kwargs)
