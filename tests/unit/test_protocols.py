"""The protocol registry: every profile's protocol has an entry, drivers are built
once per agent and only for the protocols the site uses, all are closed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gateway.config import load_config
from gateway.config.load import BUILTIN_PROFILES, LoadedConfig
from gateway.config.profile import Profile
from gateway.config.site import Device
from gateway.poller.result import PollResult
from gateway.poller.schedule import PointReader
from gateway.protocols.base import ProtocolEntry
from gateway.protocols.modbus.reader import ModbusPointReader
from gateway.protocols.registry import PROTOCOLS, Drivers
from gateway.protocols.snmp.reader import SnmpPointReader
from gateway.protocols.snmp.traps import TrapSource

HEAD = """\
site: {id: site-1, name: Test, customer: {name: C}, contract: {type: annual}}
uplink: {mqtt: {host: 127.0.0.1}}
"""
DEVICES = """\
devices:
  - {id: sw-1, kind: switch, profile: switch-generic, address: 127.0.0.1}
  - {id: sw-2, kind: switch, profile: switch-generic, address: 127.0.0.2}
  - {id: panel, kind: alarm_panel, profile: alarm-panel-modbus, address: 127.0.0.3}
"""


def site(tmp_path: Path, text: str) -> LoadedConfig:
    path = tmp_path / "site.yaml"
    path.write_text(text)
    return load_config(path)


def test_every_shipped_profile_speaks_a_registered_protocol() -> None:
    import yaml

    for path in BUILTIN_PROFILES.glob("*.yaml"):
        assert yaml.safe_load(path.read_text())["protocol"] in PROTOCOLS, path.name


@dataclass
class CountingDriver:
    name: str
    opened: list[str]
    closed: list[str] = field(default_factory=list)

    def reader(self, device: Device, profile: Profile) -> PointReader:
        return CountingReader(device.id)

    async def close(self) -> None:
        self.closed.append(self.name)


@dataclass
class CountingReader:
    device: str

    async def poll(self) -> PollResult:
        raise NotImplementedError


async def test_each_driver_is_built_once_and_only_for_protocols_in_use(tmp_path: Path) -> None:
    config = site(tmp_path, HEAD + DEVICES.replace("  - {id: panel", "#"))
    opened: list[str] = []
    drivers_made: list[CountingDriver] = []

    def opener(name: str) -> ProtocolEntry:
        def open_driver(cfg: LoadedConfig) -> CountingDriver:
            opened.append(name)
            driver = CountingDriver(name, opened)
            drivers_made.append(driver)
            return driver

        return ProtocolEntry(name, open_driver)

    drivers = Drivers(config, {"snmp": opener("snmp"), "modbus": opener("modbus")})
    readers = [drivers.reader(d) for d in config.devices]
    assert [r.device for r in readers if isinstance(r, CountingReader)] == ["sw-1", "sw-2"]
    assert opened == ["snmp"]  # one shared driver; none for a protocol no device speaks
    await drivers.close()
    assert [d.closed for d in drivers_made] == [["snmp"]]


async def test_the_real_registry_gives_each_device_its_protocols_reader(tmp_path: Path) -> None:
    config = site(tmp_path, HEAD + DEVICES)
    async with Drivers(config) as drivers:
        sw1, sw2, panel = (drivers.reader(d) for d in config.devices)
        assert isinstance(sw1, SnmpPointReader) and isinstance(sw2, SnmpPointReader)
        assert sw1.client is sw2.client  # one SNMP client (one socket) for the site
        assert isinstance(panel, ModbusPointReader)
        assert drivers.push_sources() == []  # no traps: section, no trap receiver


async def test_traps_section_turns_on_snmps_push_source(tmp_path: Path) -> None:
    config = site(tmp_path, HEAD + "traps: {listen: '127.0.0.1:1162'}\n" + DEVICES)
    async with Drivers(config) as drivers:
        (source,) = drivers.push_sources()  # built, not started (nothing bound)
        assert isinstance(source, TrapSource) and source.name == "traps"
        assert source.listen == "127.0.0.1:1162"
