"""Per-second rates from counters, with counter wrap and device restarts handled."""

from __future__ import annotations

from dataclasses import dataclass, field

WRAP = {"counter32": 2**32, "counter64": 2**64}


@dataclass(slots=True)
class CounterRates:
    """Remembers the last value of each counter and turns the next one into a rate.

    A counter that went down wrapped if it is a 32-bit counter that was in its upper
    quarter (the usual wrap of a busy interface); otherwise the device restarted or
    cleared its counters, and no rate is given for that interval rather than a huge
    false one.
    """

    # (device, ...): the device first, the rest says which counter of it.
    last: dict[tuple[str, ...], tuple[float, int]] = field(default_factory=dict)

    def rate(self, key: tuple[str, ...], kind: str, value: int, at: float) -> float | None:
        previous = self.last.get(key)
        self.last[key] = (at, value)
        if previous is None:
            return None
        then, before = previous
        elapsed = at - then
        if elapsed <= 0:
            return None
        delta = value - before
        if delta < 0:
            wrap = WRAP.get(kind, 0)
            if kind == "counter32" and before >= wrap * 3 // 4:
                delta += wrap
            else:
                return None
        return delta / elapsed

    def forget(self, device: str) -> None:
        """Drop a device's counters (it restarted, or was unreachable)."""
        for key in [k for k in self.last if k[0] == device]:
            del self.last[key]
