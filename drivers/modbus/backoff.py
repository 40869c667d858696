"""Capped exponential backoff with jitter, for reconnecting to a bus."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """Delays that double after each failure up to a cap, and reset on success.

    Each delay is drawn between ``(1 - jitter)`` and 1 times the exponential value,
    so that gateways that lost several buses at once do not retry in lockstep.
    """

    def __init__(
        self,
        initial: float = 0.5,
        maximum: float = 30.0,
        *,
        factor: float = 2.0,
        jitter: float = 0.25,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not 0 < initial <= maximum:
            raise ValueError(f"backoff needs 0 < initial ({initial}) <= maximum ({maximum})")
        if factor < 1 or not 0 <= jitter < 1:
            raise ValueError(f"backoff needs factor >= 1 ({factor}) and 0 <= jitter < 1 ({jitter})")
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.jitter = jitter
        self._rng = rng
        self.failures = 0

    def next_delay(self) -> float:
        """Count one more failure and return how long to wait before the next attempt."""
        # the exponent is bounded so that a bus down for weeks cannot overflow a float
        ceiling = min(self.maximum, self.initial * self.factor ** min(self.failures, 64))
        self.failures += 1
        return ceiling * (1 - self.jitter * self._rng())

    def reset(self) -> None:
        self.failures = 0
