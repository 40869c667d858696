"""What a protocol gives the gateway: its driver, the readers on it, a push source.

A protocol is one ``ProtocolEntry`` in ``gateway/protocols/registry.py``. The agent
never names a protocol: it asks the registry's ``Drivers`` for a device's reader and
for the push sources of the site, and closes them all when it stops.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from gateway.config.load import LoadedConfig
from gateway.config.profile import Profile
from gateway.config.protocols import ProtocolSchema
from gateway.config.site import Device
from gateway.poller.result import PollResult
from gateway.poller.schedule import PointReader
from gateway.snapshot import IntakeStatus

# Asks for an immediate poll of a device (by id), out of its schedule.
PollNow = Callable[[str], None]


class Driver(Protocol):
    """A protocol's resources shared by every device of the site, built once per agent
    (the one SNMP socket, one Modbus bus per TCP gateway or serial line)."""

    def reader(self, device: Device, profile: Profile) -> PointReader:
        """A reader that polls ``device`` through ``profile`` on this driver."""
        ...

    async def close(self) -> None: ...


class PushSource(Protocol):
    """What devices send unasked (SNMP traps, event streams): readings at once
    (``PollResult`` with ``source="trap"``) and, when they say something changed, an
    immediate poll of the device."""

    name: str  # the agent's task name, e.g. "traps"

    async def start(self) -> None:
        """Bind or connect; a failure here stops the agent's start, as a bad port should."""
        ...

    async def run(self, out: asyncio.Queue[PollResult], poll_now: PollNow) -> None: ...

    async def close(self) -> None: ...


@runtime_checkable
class Counted(Protocol):
    """A push source that counts what it takes and refuses (a receiver that answers
    devices: DC-09); the agent shows the counts in the status snapshot."""

    name: str

    def counters(self) -> IntakeStatus: ...


@dataclass(frozen=True, slots=True)
class ProtocolEntry:
    """One protocol of the registry.

    ``schema`` is its config half: its name (what a profile's ``protocol:`` says), the
    site-file sections and point fields it adds (gateway/config/protocols/).
    ``open_driver`` builds the protocol's shared resources; the registry calls it at
    most once per agent, and only when a device of the site speaks the protocol.
    ``push_source``, when given, builds the site's push source from the site file, or
    returns None when the site turned it off (no ``traps:`` section). ``driver_push``,
    when given instead, asks the open driver for it (DC-09: the receiver is the driver).
    """

    schema: ProtocolSchema
    open_driver: Callable[[LoadedConfig], Driver]
    push_source: Callable[[LoadedConfig], PushSource | None] | None = None
    # A push source that shares the protocol's driver (a receiver whose state its
    # readers report), asked of the driver once one is open.
    driver_push: Callable[[Any], PushSource | None] | None = None

    @property
    def name(self) -> str:
        return self.schema.name


def site_speaks(config: LoadedConfig, protocol: str) -> bool:
    """Whether a device of the site is read over ``protocol``: a protocol's push source
    and its driver's libraries (aiohttp for the HTTP APIs, pymodbus) are loaded only
    for a site that has one."""
    return any(protocol in config.profile_of(device).protocols for device in config.devices)
