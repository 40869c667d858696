"""Reconnect backoff: doubling, cap, jitter, reset."""

from __future__ import annotations

from typing import Any

import pytest

from drivers.modbus import Backoff


def test_delays_double_up_to_the_cap_and_reset_on_success() -> None:
    backoff = Backoff(0.5, 4.0, jitter=0.0)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_jitter_shortens_each_delay_by_at_most_its_fraction() -> None:
    draws = iter([0.0, 1.0, 0.5])
    backoff = Backoff(1.0, 100.0, jitter=0.25, rng=lambda: next(draws))
    assert [backoff.next_delay() for _ in range(3)] == [1.0, 1.5, 3.5]


def test_a_bus_down_for_weeks_stays_at_the_cap() -> None:
    backoff = Backoff(0.1, 30.0, jitter=0.0)
    for _ in range(5000):
        delay = backoff.next_delay()
    assert delay == 30.0


@pytest.mark.parametrize(
    "kwargs",
    [{"initial": 0}, {"initial": 5, "maximum": 1}, {"factor": 0.5}, {"jitter": 1.0}],
)
def test_nonsense_settings_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="backoff needs"):
        Backoff(**kwargs)
