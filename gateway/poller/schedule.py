"""One schedule per device on the monotonic clock, with jitter; failures stay local."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from gateway.config.limits import DEFAULT_LIMITS
from gateway.model import Reading
from gateway.poller.result import PollResult

log = logging.getLogger("lvgw.poller")


class PointReader(Protocol):
    async def poll(self) -> PollResult: ...


async def poll_within(reader: PointReader, device_id: str, deadline: float | None) -> PollResult:
    """One poll that takes at most ``deadline`` seconds: past it, the poll is abandoned
    and the device counts as unreachable (an agent that drips its answers, or a table
    that never ends, holds nothing longer than that)."""
    if deadline is None:
        return await reader.poll()
    ts = datetime.now(UTC)
    limit = asyncio.timeout(deadline)
    try:
        async with limit:
            return await reader.poll()
    except TimeoutError:
        if not limit.expired():
            raise
    reading = Reading(device_id, "reachable", False, ts)
    error = f"PollDeadline: poll exceeded its deadline of {deadline:g} s"
    return PollResult(device_id, ts, False, (reading,), error)


class DeviceSchedule:
    """Polls one device every ``interval`` seconds and hands each result to ``out``.

    ``limit``, shared by every schedule, caps the polls in flight at once (so a
    thousand devices waking together do not overflow a socket buffer).

    The first poll is spread by a random offset within the interval (so a site's
    devices are not all polled at once); after that, ticks follow the monotonic
    clock, so a slow poll does not shift the schedule. A poll that overruns its
    slot skips the missed ticks rather than bunching them; one that takes longer than
    ``deadline`` is abandoned (see :func:`poll_within`).

    ``poll_now`` (a trap arrived) polls at once, but at most once per ``early_every``
    seconds: asks that come sooner are coalesced into one poll at the end of that
    window (or into the regular tick, if it comes first). Traps come from any address
    on the LAN; a storm of them costs the device one poll per window, not one per trap.
    """

    def __init__(
        self,
        device_id: str,
        reader: PointReader,
        interval: float,
        out: asyncio.Queue[PollResult],
        first_delay: float | None = None,
        limit: asyncio.Semaphore | None = None,
        deadline: float | None = None,
        early_every: float = DEFAULT_LIMITS.trap_poll_every,
    ) -> None:
        self.device_id = device_id
        self.reader = reader
        self.interval = interval
        self.out = out
        self.limit = limit
        self.deadline = deadline
        self.early_every = early_every
        self._last_early = -math.inf
        self.first_delay = random.uniform(0, interval) if first_delay is None else first_delay
        self._wake = asyncio.Event()

    def poll_now(self) -> None:
        """Poll as soon as possible (a trap said something changed); the schedule stays."""
        self._wake.set()

    async def _sleep_until(self, deadline: float) -> bool:
        """Sleep until ``deadline``; True if woken early by ``poll_now`` (no sooner than
        ``early_every`` after the last early poll)."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            if now >= deadline:
                self._wake.clear()  # the regular poll reads what the traps asked for
                return False
            if self._wake.is_set():
                earliest = self._last_early + self.early_every
                if now >= earliest:
                    self._wake.clear()
                    self._last_early = now
                    return True
                await asyncio.sleep(min(deadline, earliest) - now)  # coalesce
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(deadline - now):
                    await self._wake.wait()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time() + self.first_delay
        while True:
            early = await self._sleep_until(next_at)
            try:
                if self.limit is None:
                    result = await poll_within(self.reader, self.device_id, self.deadline)
                else:
                    async with self.limit:
                        result = await poll_within(self.reader, self.device_id, self.deadline)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug for one device must not stop the others
                log.exception("poll of %s failed unexpectedly", self.device_id)
            else:
                await self.out.put(result)
            if early:
                continue  # an extra poll: the regular tick stays where it was
            next_at += self.interval
            now = loop.time()
            if next_at < now:  # overran: skip the missed ticks
                next_at += ((now - next_at) // self.interval + 1) * self.interval


async def run_pollers(schedules: Sequence[DeviceSchedule]) -> None:
    """Run every device's schedule until cancelled."""
    async with asyncio.TaskGroup() as group:
        for schedule in schedules:
            group.create_task(schedule.run(), name=f"poll:{schedule.device_id}")
