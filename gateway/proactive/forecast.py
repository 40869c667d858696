"""Straight-line trends over a series, and when they cross a threshold.

An ordinary least-squares fit of value over time. The slope is per second; times are
measured from the first sample so that epoch-sized numbers never meet in one sum (the
fit stays exact to float precision over years of data). A fit is only trusted when it
has enough samples over a long enough span and explains the data well (R^2): a
noisy flat series must not predict anything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Direction = Literal["below", "above"]


@dataclass(frozen=True, slots=True)
class Trend:
    """value(t) = intercept + slope * (t - origin), fitted over ``points`` samples."""

    origin: datetime
    intercept: float
    slope: float  # units per second
    r2: float  # share of the variance the line explains, 0..1 (1 for a perfect line)
    points: int
    span: timedelta  # first to last sample

    @property
    def per_day(self) -> float:
        return self.slope * 86400.0

    def value_at(self, when: datetime) -> float:
        return self.intercept + self.slope * (when - self.origin).total_seconds()

    def crossing(self, threshold: float, direction: Direction) -> datetime | None:
        """When the line reaches ``threshold`` going ``direction``; None when it is not
        heading there (flat, or moving away)."""
        heading = self.slope < 0 if direction == "below" else self.slope > 0
        if not heading:
            return None
        seconds = (threshold - self.intercept) / self.slope
        if not math.isfinite(seconds) or abs(seconds) > 1e11:  # beyond datetime's range
            return None
        return self.origin + timedelta(seconds=seconds)


def fit(samples: Sequence[tuple[datetime, float]]) -> Trend | None:
    """The least-squares line through ``(time, value)`` samples; None with fewer than
    two distinct times or a non-finite value."""
    if len(samples) < 2:
        return None
    origin = min(ts for ts, _ in samples)
    xs = [(ts - origin).total_seconds() for ts, _ in samples]
    ys = [float(v) for _, v in samples]
    if not all(math.isfinite(y) for y in ys):
        return None
    n = len(xs)
    mean_x = math.fsum(xs) / n
    mean_y = math.fsum(ys) / n
    sxx = math.fsum((x - mean_x) ** 2 for x in xs)
    if sxx == 0.0:
        return None
    sxy = math.fsum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    syy = math.fsum((y - mean_y) ** 2 for y in ys)
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    r2 = 1.0 if syy == 0.0 else max(0.0, min(1.0, sxy * sxy / (sxx * syy)))
    return Trend(origin, intercept, slope, r2, n, timedelta(seconds=max(xs)))


@dataclass(frozen=True, slots=True)
class Trust:
    """When a fit is good enough to act on."""

    min_points: int = 12
    min_span: timedelta = timedelta(hours=24)
    min_r2: float = 0.6

    def trusts(self, trend: Trend) -> bool:
        return (
            trend.points >= self.min_points
            and trend.span >= self.min_span
            and trend.r2 >= self.min_r2
        )


@dataclass(frozen=True, slots=True)
class Outlook:
    """What a trend says about one series against one threshold, at ``now``."""

    trend: Trend | None
    trusted: bool
    current: float | None  # the fitted value now
    eta: datetime | None  # when the threshold is reached, if it is heading there

    def within(self, now: datetime, horizon: timedelta) -> bool:
        """A trusted forecast of the threshold being reached within ``horizon``."""
        return self.trusted and self.eta is not None and now <= self.eta <= now + horizon

    def days_left(self, now: datetime) -> float | None:
        if self.eta is None:
            return None
        return max(0.0, (self.eta - now).total_seconds() / 86400.0)


def outlook(
    samples: Sequence[tuple[datetime, float]],
    threshold: float,
    direction: Direction,
    now: datetime,
    trust: Trust = Trust(),
) -> Outlook:
    """Fit ``samples`` and say whether and when they reach ``threshold``.

    A series already past the threshold has no ETA: that is a present fault, for the
    rules, not a forecast.
    """
    trend = fit(samples)
    if trend is None:
        return Outlook(None, False, None, None)
    current = trend.value_at(now)
    already = current <= threshold if direction == "below" else current >= threshold
    eta = None if already else trend.crossing(threshold, direction)
    if eta is not None and eta < now:
        eta = None
    return Outlook(trend, trust.trusts(trend), current, eta)
