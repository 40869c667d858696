"""Least-squares trends on synthetic series with known answers."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.config.profile import Profile
from gateway.config.site import DeviceKind
from gateway.proactive.forecast import Trust, fit, outlook
from gateway.proactive.watches import BATTERY_LOW, DISK_FULL, rule_threshold

T0 = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def line(start: float, per_day: float, days: float, every: timedelta = HOUR, noise: float = 0.0,
         seed: int = 1) -> list[tuple[datetime, float]]:  # fmt: skip
    rng = random.Random(seed)
    count = int(timedelta(days=days) / every) + 1
    return [
        (T0 + i * every, start + per_day * (i * every / timedelta(days=1)) + rng.gauss(0, noise))
        for i in range(count)
    ]


def test_an_exact_line_gives_its_slope_and_crossing() -> None:
    # 100 000 MB free, 10 000 MB used a day: full after exactly 10 days.
    trend = fit(line(100_000, -10_000, days=7))
    assert trend is not None
    assert trend.per_day == pytest.approx(-10_000)
    assert trend.r2 == pytest.approx(1.0)
    assert trend.points == 7 * 24 + 1
    assert trend.span == timedelta(days=7)
    assert trend.crossing(0, "below") == T0 + timedelta(days=10)
    assert trend.crossing(0, "above") is None  # moving away


def test_a_disk_filling_at_a_known_rate_reaches_full_on_the_day_within_the_noise() -> None:
    now = T0 + timedelta(days=7)
    samples = line(100_000, -10_000, days=7, noise=800.0)
    seen = outlook(samples, 0.0, "below", now, DISK_FULL.trust)
    assert seen.trusted
    assert seen.eta is not None
    assert abs(seen.eta - (T0 + timedelta(days=10))) < timedelta(hours=3)
    assert seen.within(now, timedelta(days=14))
    assert not seen.within(now, timedelta(days=2))
    assert seen.days_left(now) == pytest.approx(3.0, abs=0.15)


def test_a_battery_sagging_0_05_volts_a_day_crosses_its_threshold_on_the_day() -> None:
    # 12.8 V falling 0.05 V/day reaches 11.5 V after 26 days: 16 days after the 10 measured.
    now = T0 + timedelta(days=10)
    samples = line(12.8, -0.05, days=10, noise=0.01)
    seen = outlook(samples, 11.5, "below", now, BATTERY_LOW.trust)
    assert seen.trusted and seen.eta is not None
    assert abs(seen.eta - (T0 + timedelta(days=26))) < timedelta(hours=12)
    assert seen.within(now, BATTERY_LOW.horizon)


def test_noise_around_a_flat_level_predicts_nothing() -> None:
    now = T0 + timedelta(days=7)
    samples = line(12.6, 0.0, days=7, noise=0.2, seed=7)
    seen = outlook(samples, 11.5, "below", now)
    assert seen.trend is not None
    assert seen.trend.r2 < 0.1
    assert not seen.trusted
    assert not seen.within(now, timedelta(days=3650))


def test_too_short_or_too_few_samples_are_not_trusted() -> None:
    short = line(100.0, -10.0, days=0.5)
    assert not outlook(short, 0.0, "below", T0 + timedelta(days=1)).trusted
    sparse = line(100.0, -10.0, days=5, every=timedelta(days=1))  # 6 samples
    assert not outlook(sparse, 0.0, "below", T0 + timedelta(days=5)).trusted
    assert outlook(sparse, 0.0, "below", T0 + timedelta(days=5), Trust(min_points=5)).trusted


def test_a_series_already_past_the_threshold_has_no_forecast() -> None:
    samples = line(10.0, -1.0, days=20)  # below 0 since day 10
    seen = outlook(samples, 0.0, "below", T0 + timedelta(days=20))
    assert seen.eta is None and not seen.within(T0 + timedelta(days=20), timedelta(days=30))


def test_degenerate_inputs() -> None:
    assert fit([]) is None
    assert fit([(T0, 1.0)]) is None
    assert fit([(T0, 1.0), (T0, 2.0)]) is None  # one instant: no slope
    assert fit([(T0, 1.0), (T0 + HOUR, float("nan"))]) is None
    flat = fit([(T0, 5.0), (T0 + HOUR, 5.0)])
    assert flat is not None and flat.r2 == 1.0 and flat.crossing(4.0, "below") is None


@given(
    start=st.floats(-1e6, 1e6),
    per_day=st.floats(-1e4, 1e4).filter(lambda v: abs(v) > 1e-3),
    days=st.integers(2, 400),
)
def test_any_exact_line_is_recovered(start: float, per_day: float, days: int) -> None:
    samples = line(start, per_day, days=days, every=timedelta(hours=6))
    trend = fit(samples)
    assert trend is not None
    assert trend.per_day == pytest.approx(per_day, rel=1e-6, abs=1e-6)
    assert trend.value_at(T0) == pytest.approx(start, rel=1e-6, abs=1e-3)


def test_thresholds_come_from_the_profile_rules_first() -> None:
    profile = Profile.model_validate(
        {
            "id": "p",
            "description": "d",
            "kinds": ["alarm_panel"],
            "protocol": "modbus",
            "points": {
                "panel.battery_voltage": {
                    "table": "input", "address": 1, "type": "uint16", "meaning": "battery_voltage"
                }
            },
            "rules": [
                {
                    "code": "panel.battery_low",
                    "type": "check",
                    "title": "low",
                    "level": 3,
                    "when": {"any": [
                        {"point": "panel.battery_voltage", "lt": 11.8},
                        {"point": "panel.battery_voltage", "le": 11.2},
                    ]},
                }
            ],
        }
    )  # fmt: skip
    assert rule_threshold(profile, "panel.battery_voltage", "below") == 11.8
    assert rule_threshold(profile, "panel.battery_voltage", "above") is None
    assert BATTERY_LOW.threshold("panel.battery_voltage", profile) == 11.8
    # Without a rule: the watch's default for what the point means, for a panel only.
    no_rules = profile.model_copy(update={"rules": []})
    assert BATTERY_LOW.threshold("panel.battery_voltage", no_rules) == 11.5
    ups = no_rules.model_copy(update={"kinds": [DeviceKind.UPS]})
    assert BATTERY_LOW.threshold("panel.battery_voltage", ups) is None  # no guess for a UPS
    assert BATTERY_LOW.threshold("panel.battery_voltage", None) is None
