"""When a condition starts and ends: durations before raising and before clearing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.rules.expressions import Truth


@dataclass(slots=True)
class Hysteresis:
    """Raised once ``holds`` was True at every evaluation for ``raise_for`` seconds;
    cleared once ``recovers`` was True at every evaluation for ``clear_for`` seconds.

    An evaluation that is False or unknown (None) restarts the pending timer: a
    condition is never raised unless its rule was seen to hold for the whole duration.
    """

    raise_for: float = 0.0
    clear_for: float = 0.0
    raised: bool = False
    pending_since: datetime | None = None

    def update(self, holds: Truth, recovers: Truth, now: datetime) -> bool:
        """Feed one evaluation; True when ``raised`` changed."""
        wanted = recovers if self.raised else holds
        if wanted is not True:
            self.pending_since = None
            return False
        if self.pending_since is None:
            self.pending_since = now
        wait = self.clear_for if self.raised else self.raise_for
        if (now - self.pending_since).total_seconds() < wait:
            return False
        self.raised = not self.raised
        self.pending_since = None
        return True

    def restart(self) -> None:
        """Forget a pending change (the readings stopped: nothing is known to hold)."""
        self.pending_since = None

    def reset(self) -> None:
        self.raised = False
        self.pending_since = None


@dataclass(slots=True)
class PollStreak:
    """Raised after ``raise_after`` failed polls in a row; cleared after ``clear_after`` good."""

    raise_after: int
    clear_after: int
    raised: bool = False
    failed: int = 0
    good: int = 0

    def update(self, reachable: bool) -> bool:
        """Feed one poll; True when ``raised`` changed."""
        if reachable:
            self.good, self.failed = self.good + 1, 0
        else:
            self.failed, self.good = self.failed + 1, 0
        if not self.raised and self.failed >= self.raise_after:
            self.raised = True
            return True
        if self.raised and self.good >= self.clear_after:
            self.raised = False
            return True
        return False

    def restart(self) -> None:
        """Forget the polls counted so far (nothing is known of this one)."""
        self.failed = self.good = 0
