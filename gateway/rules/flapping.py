"""Flapping: a condition that keeps raising and clearing becomes one flapping condition."""

from __future__ import annotations

from collections import deque
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
    times: deque[datetime] = field(default_factory=deque)
    flapping: bool = False

    def on_transition(self, now: datetime) -> bool:
        """Record a transition; True when it starts flapping."""
        self.times.append(now)
        horizon = now - timedelta(seconds=self.spec.window)
        while self.times and self.times[0] <= horizon:
            self.times.popleft()
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
