"""A cap on how many requests per second leave for the network, retries included.

The poller does not need one (its schedule paces it); a sweep of an address range
does: a network's monitoring or an IDS takes a burst of SNMP to hundreds of
addresses for a scan, and a slow link drops it.
"""

from __future__ import annotations

import asyncio


class Pacer:
    """Spaces sends at least ``1 / rate`` seconds apart on average.

    ``wait()`` before a send takes the next slot (and sleeps until it); ``charge()``
    books a send that could not wait (a retry sent from a timer), which moves the
    next slot on instead.
    """

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("a rate of requests per second must be positive")
        self.rate = rate
        self._gap = 1.0 / rate
        self._next = 0.0
        self.sent = 0

    async def wait(self) -> None:
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next)
        self._next = slot + self._gap
        self.sent += 1
        if slot > now:
            await asyncio.sleep(slot - now)

    def charge(self) -> None:
        now = asyncio.get_running_loop().time()
        self._next = max(now, self._next) + self._gap
        self.sent += 1
