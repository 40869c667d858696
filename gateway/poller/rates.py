"""Per-second rates from counters, with counter wrap and device restarts handled."""

from __future__ import annotations

import math
from array import array

WRAP = {"counter32": 2**32, "counter64": 2**64}
MAX_COUNTERS = 65_536  # counters one reader remembers; beyond, it starts over
_UNSIGNED_64 = 2**64


class CounterRates:
    """Remembers the last value of each counter and turns the next one into a rate.

    A counter that went down wrapped if it is a 32-bit counter that was in its upper
    quarter (the usual wrap of a busy interface); otherwise the device restarted or
    cleared its counters, and no rate is given for that interval rather than a huge
    false one.

    One per reader (one device). A counter is known by its reading's name and
    instance, and has a number: its last time and value sit at that number in two
    arrays, so a counter costs one dictionary entry (name and instance are the
    interned strings its readings carry) and 16 bytes, not a key tuple and a tuple
    of a float and an int.
    """

    __slots__ = ("_at", "_numbers", "_outside", "_values")

    def __init__(self) -> None:
        self._numbers: dict[str, dict[str, int]] = {}  # name -> instance -> number
        self._at = array("d")  # NaN: no value yet
        self._values = array("Q")
        self._outside: dict[int, int] = {}  # values that do not fit 64 unsigned bits

    def __len__(self) -> int:
        return len(self._at)

    def rate(self, name: str, instance: str, kind: str, value: int, at: float) -> float | None:
        numbers = self._numbers.get(name)
        if numbers is None:
            numbers = self._numbers[name] = {}
        number = numbers.get(instance)
        if number is None:
            if len(self._at) >= MAX_COUNTERS:  # a table that keeps renumbering
                self.forget()
                numbers = self._numbers[name] = {}
            number = numbers[instance] = len(self._at)
            self._at.append(math.nan)
            self._values.append(0)
        then = self._at[number]
        outside = self._outside
        before = outside.pop(number) if outside and number in outside else self._values[number]
        self._at[number] = at
        if 0 <= value < _UNSIGNED_64:
            self._values[number] = value
        else:
            outside[number] = value
        if then != then:  # NaN: the first value of this counter
            return None
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

    def forget(self) -> None:
        """Drop every counter (the device restarted, or was unreachable)."""
        self._numbers.clear()
        self._at = array("d")
        self._values = array("Q")
        self._outside.clear()
