"""The protocol registry: every profile's protocol has an entry, drivers are built
once per agent and only for the protocols the site uses, all are closed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gateway.config import ConfigError, load_config
from gateway.config.include import load_profile_source
from gateway.config.load import BUILTIN_PROFILES, LoadedConfig
from gateway.config.profile import Profile
from gateway.config.protocols import SCHEMAS
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
    for path in BUILTIN_PROFILES.glob("*.yaml"):
        assert load_profile_source(path)[0]["protocol"] in PROTOCOLS, path.name


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

        return ProtocolEntry(SCHEMAS[name], open_driver)

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


# The config half: each protocol's site-file sections and point fields come from its
# schema (gateway/config/protocols/), checked with FILE:LINE like the rest.


def problems(tmp_path: Path, profile: str, device: str = "") -> list[str]:
    profiles = tmp_path / "profiles"
    profiles.mkdir(exist_ok=True)
    (profiles / "box.yaml").write_text("description: x\nkinds: [switch]\n" + profile)
    path = tmp_path / "site.yaml"
    path.write_text(
        HEAD + f"devices:\n  - {{id: a, kind: switch, profile: box, address: 10.0.0.1{device}}}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return [str(p).removeprefix(f"{tmp_path}/") for p in info.value.problems]


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        (
            "protocol: bacnet\n",
            "profiles/box.yaml:3: field 'protocol': unknown protocol 'bacnet' "
            "(one of: snmp, modbus, isapi, dahua, sia, ami)",
        ),
        (
            "protocol: snmp\npoints:\n  x: {oid: 1.3.6.1.2.1.1.5.0, table: holding, address: 1}\n",
            "profiles/box.yaml:5: field 'points.x': a point is of one protocol: SNMP (oid), "
            "Modbus (table, address, order), ISAPI and Dahua HTTP API (path, field, row, key, "
            "codes, presence), SIA DC-09 (set, reset, number_of, zone, initial) or AMI (action, "
            "field, time_field, distinct, codes)",
        ),
        (
            "protocol: snmp\npoints:\n  x: {oid: 1.3.6.1.2.1.1.5.0, order: CDAB}\n",
            "profiles/box.yaml:5: field 'points.x': a point is of one protocol: SNMP (oid), "
            "Modbus (table, address, order), ISAPI and Dahua HTTP API (path, field, row, key, "
            "codes, presence), SIA DC-09 (set, reset, number_of, zone, initial) or AMI (action, "
            "field, time_field, distinct, codes)",
        ),
        (
            "protocol: modbus\npoints:\n  x: {table: holding, address: 1, type: counter32}\n",
            "profiles/box.yaml:5: point x: type 'counter32' is not a Modbus type (bitfield, "
            "bool, float32, int16, int32, uint16, uint32)",
        ),
        (
            "protocol: modbus\npoints:\n  x: {table: holding}\n",
            "profiles/box.yaml:5: point x: a Modbus point needs a table and an address",
        ),
        (
            "protocol: snmp\ntables:\n  t:\n    instance: row\n    base: 16\n"
            "    columns: {c: {oid: 1.3.6.1.2.1.2.2.1.2}}\n",
            "profiles/box.yaml:5: table t: base is for Modbus tables",
        ),
        (
            "protocol: modbus\ntables:\n  t:\n    instance: row\n    base: 16\n"
            "    count_point: n\n    columns: {c: {table: holding, address: 0, type: uint16}}\n",
            "profiles/box.yaml:8: table t: no point 'n'",
        ),
        (
            "protocol: isapi\npoints:\n  x: {field: deviceName, type: text}\n",
            "profiles/box.yaml:5: point x: an HTTP API point needs a path (the resource it is "
            "read from)",
        ),
        (
            "protocol: dahua\npoints:\n  x: {path: /cgi-bin/a.cgi, field: 'sum(a[*]', type: int}\n",
            "profiles/box.yaml:5: point x: field: not a Dahua key, sum(...) or any(...): "
            "'sum(a[*]'",
        ),
        (
            "protocol: dahua\npoints:\n  x: {path: /cgi-bin/a.cgi, row: r, presence: true}\n",
            "profiles/box.yaml:5: point x: presence is for table columns",
        ),
    ],
    ids=[
        *("protocol", "two-protocols", "foreign-field", "type", "address", "table", "count"),
        *("http-scalar-path", "dahua-field", "presence-scalar"),
    ],
)
def test_a_points_protocol_fields_are_checked_against_its_profile(
    tmp_path: Path, profile: str, expected: str
) -> None:
    assert problems(tmp_path, profile) == [expected]


def test_a_devices_settings_must_be_its_profiles_protocol(tmp_path: Path) -> None:
    snmp = "protocol: snmp\npoints:\n  x: {oid: 1.3.6.1.2.1.1.5.0}\n"
    assert problems(tmp_path, snmp, ", modbus: {unit: 2}") == [
        "site.yaml:4: device 'a', field 'modbus': profile 'box' speaks SNMP, not Modbus"
    ]
    assert problems(tmp_path, snmp, ", snmp: {version: 1}, modbus: {unit: 2}") == [
        "site.yaml:4: device 'a', field 'modbus': profile 'box' speaks SNMP, not Modbus"
    ]
    isapi = "protocol: isapi\npoints:\n  x: {path: /ISAPI/System/status, field: a, type: int}\n"
    assert problems(tmp_path, isapi) == [
        "site.yaml:4: device 'a', field 'profile': profile 'box' speaks ISAPI: give an isapi:"
        " section"
    ]


def test_every_schema_has_a_registry_entry_and_back() -> None:
    assert set(SCHEMAS) == set(PROTOCOLS)
    assert all(PROTOCOLS[name].schema is schema for name, schema in SCHEMAS.items())
