"""Push sources that hold one connection per device (an HTTP event stream, later a
manager interface's socket): connect, read events, reconnect with the shared backoff.

Each device's events become readings ``event.<name>`` (the profile names the events
it knows; the instance is the channel an event is about) when their state changes,
and a state change asks for an immediate poll of the device, as a trap does. The
schedule bounds those polls (``limits.trap_poll_every``), so a device that floods
its stream still costs one poll per window.

A stream that fails is logged once when it starts failing (and once when it is back),
never at each attempt; attempts are spaced by ``drivers.backoff.Backoff`` up to
``limits.event_backoff_max``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from drivers.backoff import Backoff
from gateway.model import Reading
from gateway.poller.result import PollResult
from gateway.protocols.base import PollNow

log = logging.getLogger("lvgw.events")

MAX_STATES = 4096  # (event, channel) states remembered per device; oldest forgotten
RECONNECT_INITIAL = 1.0  # seconds before the first reconnect


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    """One event as the device names it: its code, ``active`` or not, its channel."""

    code: str
    active: bool
    channel: str = ""


class StreamFailed(Exception):
    """The stream could not be opened or broke; ``kind`` is what is logged."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


# Opens a device's stream and yields its events until it breaks (StreamFailed).
EventStream = Callable[[], AsyncIterator[DeviceEvent]]


@dataclass(frozen=True, slots=True)
class StreamedDevice:
    device: str
    events: Mapping[str, str]  # device's event code -> reading name (event.<name>)
    open: EventStream


class DeviceEvents:
    """The state of one device's events: readings on change, a poll on change."""

    def __init__(self, device: StreamedDevice, out: asyncio.Queue[PollResult], poll_now: PollNow):
        self.device = device
        self.out = out
        self.poll_now = poll_now
        self.states: OrderedDict[tuple[str, str], bool] = OrderedDict()

    async def take(self, event: DeviceEvent) -> None:
        name = self.device.events.get(event.code)
        if name is None:
            return  # an event the profile does not know
        key = (event.code, event.channel)
        before = self.states.get(key, False)
        self.states[key] = event.active
        self.states.move_to_end(key)
        while len(self.states) > MAX_STATES:
            self.states.popitem(last=False)
        if before == event.active:
            return  # a repeat, or a heartbeat ("inactive" of nothing active)
        ts = datetime.now(UTC)
        reading = Reading(self.device.device, f"event.{name}", event.active, ts, event.channel)
        await self.out.put(PollResult(self.device.device, ts, True, (reading,), source="trap"))
        self.poll_now(self.device.device)


async def follow(
    device: StreamedDevice,
    out: asyncio.Queue[PollResult],
    poll_now: PollNow,
    backoff_max: float,
) -> None:
    """Hold ``device``'s stream open for as long as the agent runs."""
    backoff = Backoff(RECONNECT_INITIAL, max(RECONNECT_INITIAL, backoff_max), jitter=0.25)
    events = DeviceEvents(device, out, poll_now)
    trouble = ""
    while True:
        try:
            async for event in device.open():
                if trouble:
                    log.info("device=%s event stream back", device.device)
                    trouble = ""
                backoff.reset()
                await events.take(event)
            raise StreamFailed("stream ended", "the device closed it")
        except StreamFailed as exc:
            if exc.kind != trouble:
                log.warning("device=%s event stream %s", device.device, str(exc)[:200])
                trouble = exc.kind
        await asyncio.sleep(backoff.next_delay())


class StreamSource:
    """A push source of one protocol: a task per device that has a stream."""

    def __init__(self, name: str, devices: list[StreamedDevice], backoff_max: float) -> None:
        self.name = name
        self.devices = devices
        self.backoff_max = backoff_max

    async def start(self) -> None:
        log.info("%s: following %d device event streams", self.name, len(self.devices))

    async def run(self, out: asyncio.Queue[PollResult], poll_now: PollNow) -> None:
        async with asyncio.TaskGroup() as group:
            for device in self.devices:
                group.create_task(follow(device, out, poll_now, self.backoff_max))

    async def close(self) -> None:
        """Nothing held outside ``run``: its tasks end with it."""
