"""Capped exponential backoff with full jitter, reset on success."""

from __future__ import annotations

import random


class Backoff:
    """Delays of ``uniform(0, min(cap, base * 2**n))``: spread, bounded, growing.

    Jitter keeps a fleet of gateways from reconnecting in lock-step after a
    broker restart.
    """

    def __init__(self, base: float = 0.5, cap: float = 60.0, rng: random.Random | None = None):
        self.base = base
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * (2**self.attempt))
        self.attempt = min(self.attempt + 1, 32)
        return self._rng.uniform(self.base / 2, max(self.base / 2, ceiling))

    def reset(self) -> None:
        self.attempt = 0
