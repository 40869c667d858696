"""The SNMP driver of an agent: one client for every SNMP device of the site."""

from __future__ import annotations

from drivers.snmp import SnmpClient, ber
from drivers.snmp.driver import SnmpDriver
from gateway.config.load import LoadedConfig
from gateway.config.profile import Profile
from gateway.config.site import Device
from gateway.protocols.snmp.reader import RowPlaces, SnmpPointReader


class SnmpShared:
    """One ``SnmpDriver`` (one UDP socket for v1/v2c, one pysnmp engine for v3, made
    at the first v3 poll) shared by the readers of every device."""

    def __init__(self, config: LoadedConfig, client: SnmpClient | None = None) -> None:
        self.client = client if client is not None else SnmpDriver()
        self.limits = config.site_file.limits  # what one poll may receive, and how long
        ber.set_oid_cache_bytes(self.limits.oid_cache_bytes)
        # Where the rows of a table walk belong, shared by the readers walking the same
        # columns (the devices of one profile).
        self.places: dict[tuple[str, ...], RowPlaces] = {}

    def reader(self, device: Device, profile: Profile) -> SnmpPointReader:
        return SnmpPointReader(device, profile, self.client, self.limits, places=self.places)

    async def close(self) -> None:
        await self.client.close()
