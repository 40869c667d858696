"""Flapping: a condition that keeps raising and clearing becomes one flapping condition."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gateway.config.rules import Flapping


@dataclass(slots=True)
class FlapDetector:
    """Counts a condition's transitions (raise or clear) in a sliding window.

    Flapping starts at the transition that makes ``transitions`` within ``window``;
    it ends when no transition happened for ``stable`` seconds. The count then
    starts afresh, so old transitions cannot restart it at once.
    """

    spec: Flapping
    # The transitions in the window, oldest first: a few (``transitions`` at most
    # while it counts), so a list (56 bytes empty) rather than a deque (760 bytes
    # empty), since every rule with flapping has one per instance it judges.
    times: list[datetime] = field(default_factory=list)
    flapping: bool = False

    def on_transition(self, now: datetime) -> bool:
        """Record a transition; True when it starts flapping."""
        self.times.append(now)
        horizon = now - timedelta(seconds=self.spec.window)
        times = self.times
        old = 0
        while old < len(times) and times[old] <= horizon:
            old += 1
        del times[:old]
        if not self.flapping and len(self.times) >= self.spec.transitions:
            self.flapping = True
            return True
        return False

    def settles(self, now: datetime) -> bool:
        """True when flapping ends now: no transition for ``stable`` seconds."""
        if not self.flapping or not self.times:
            return False
        if (now - self.times[-1]).total_seconds() < self.spec.stable:
            return False
        self.flapping = False
        self.times.clear()
        return True
