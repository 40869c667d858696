"""The registry of protocols, and the one place where their drivers are built.

Adding a protocol is one entry in ``PROTOCOLS`` plus its own modules
(docs/extending.md lists them).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import TracebackType

from gateway.config.load import LoadedConfig
from gateway.config.site import Device
from gateway.poller.schedule import PointReader
from gateway.protocols import ami, dahua, isapi, modbus, sia, snmp
from gateway.protocols.base import Driver, ProtocolEntry, PushSource
from gateway.protocols.combined import CombinedReader

log = logging.getLogger("lvgw.protocols")

PROTOCOLS: Mapping[str, ProtocolEntry] = {
    entry.name: entry
    for entry in (snmp.ENTRY, modbus.ENTRY, isapi.ENTRY, dahua.ENTRY, sia.ENTRY, ami.ENTRY)
}


class Drivers:
    """The drivers of one agent: each protocol's shared resources, opened when the
    first device that speaks it asks for a reader, closed together at the end."""

    def __init__(
        self, config: LoadedConfig, protocols: Mapping[str, ProtocolEntry] = PROTOCOLS
    ) -> None:
        self.config = config
        self.protocols = protocols
        self._open: dict[str, Driver] = {}

    def driver(self, protocol: str) -> Driver:
        driver = self._open.get(protocol)
        if driver is None:
            driver = self._open[protocol] = self.protocols[protocol].open_driver(self.config)
        return driver

    def reader(self, device: Device) -> PointReader:
        """A new reader of ``device`` (each keeps its own down flag and counter rates):
        its protocol's, or one over each protocol its profile reads (combined.py)."""
        profile = self.config.profile_of(device)
        if len(profile.protocols) == 1:
            return self.driver(profile.protocol).reader(device, profile)
        readers = [
            (
                name,
                self.driver(name).reader(
                    self.config.device_over(device, name), profile.for_protocol(name)
                ),
            )
            for name in profile.protocols
        ]
        return CombinedReader(device.id, readers)

    def push_sources(self) -> list[PushSource]:
        """The push sources the site file turns on, not started yet (those that share
        a driver: once a device asked for a reader of it)."""
        sources = []
        for entry in self.protocols.values():
            source = entry.push_source(self.config) if entry.push_source else None
            if entry.driver_push is not None and entry.name in self._open:
                source = entry.driver_push(self._open[entry.name])
            if source is not None:
                sources.append(source)
        return sources

    async def close(self) -> None:
        for name, driver in self._open.items():
            try:
                await driver.close()
            except Exception:  # one driver's failure to close must not keep the others open
                log.exception("closing the %s driver failed", name)
        self._open.clear()

    async def __aenter__(self) -> Drivers:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
