"""Capped exponential backoff with jitter, reset on success: the one every reconnect uses.

It lives at the bottom of the house (drivers/ imports nothing from gateway/) so that the
Modbus buses, the MQTT uplink and the InfluxDB sink share one implementation.
"""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """Delays that grow by ``factor`` after each failure up to ``maximum``; `reset` on success.

    Each delay is drawn uniformly between ``(1 - jitter)`` times the exponential value
    (never below half of ``initial``) and the value itself, so that gateways, or buses,
    that failed together do not retry in lock-step. ``jitter=1`` is "full jitter":
    anywhere from ``initial / 2`` up to the value (the uplink after a broker restart);
    ``jitter=0.25`` keeps each delay within a quarter of it (a Modbus bus).
    """

    def __init__(
        self,
        initial: float = 0.5,
        maximum: float = 60.0,
        *,
        factor: float = 2.0,
        jitter: float = 1.0,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not 0 < initial <= maximum:
            raise ValueError(f"backoff needs 0 < initial ({initial}) <= maximum ({maximum})")
        if factor < 1 or not 0 <= jitter <= 1:
            raise ValueError(
                f"backoff needs factor >= 1 ({factor}) and 0 <= jitter <= 1 ({jitter})"
            )
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.jitter = jitter
        self._rng = rng
        self.failures = 0

    def next_delay(self) -> float:
        """Count one more failure and return how long to wait before the next attempt."""
        # The exponent is bounded so that a link down for weeks cannot overflow a float.
        ceiling = min(self.maximum, self.initial * self.factor ** min(self.failures, 64))
        self.failures += 1
        floor = max(self.initial / 2, ceiling * (1 - self.jitter))
        return ceiling - self._rng() * (ceiling - floor)

    def reset(self) -> None:
        self.failures = 0
