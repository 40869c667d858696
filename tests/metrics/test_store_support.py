"""Helpers shared by the embedded store's tests (this file holds no tests)."""

from __future__ import annotations

from datetime import UTC, datetime


class Clock:
    """A clock the test moves by hand: seconds since the epoch, like time.time."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def at(ts: float) -> datetime:
    """The aware UTC datetime of ``ts`` seconds since the epoch."""
    return datetime.fromtimestamp(ts, UTC)
