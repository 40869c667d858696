"""Finding 5: a Modbus panel that reports a different zone count at every poll no
longer grows a cache of read plans without end (99 -> 251 MB in 90 s before)."""

from __future__ import annotations

from pathlib import Path

from drivers.modbus import FakeModbusBus, Table
from gateway.config import load_config
from gateway.config.load import BUILTIN_PROFILES, LoadedConfig
from gateway.protocols.modbus.reader import ModbusPointReader

ZONES = 16  # the first zone's register in the shipped profile (docs/alarm-panel-modbus.md)


def panel(tmp_path: Path, limits: str = "{}") -> LoadedConfig:
    path = tmp_path / "site.yaml"
    path.write_text(
        "site: {id: s, name: S, customer: {name: C}, contract: {type: annual}}\n"
        "uplink: {mqtt: {host: 127.0.0.1}}\n"
        f"limits: {limits}\n"
        "devices:\n"
        "  - {id: panel, kind: alarm_panel, profile: alarm-panel-modbus, address: 10.0.0.9}\n"
    )
    return load_config(path)


def set_zone_count(bus: FakeModbusBus, count: int) -> None:
    # system word, battery 13.00 V, zone count, mains 230 V, uptime, map version
    bus.set_values(1, Table.HOLDING, 0, [0, 1300, count, 230, 0, 0, 1])


async def test_a_zone_count_that_changes_every_poll_keeps_memory_bounded(tmp_path: Path) -> None:
    # A plan costs memory in proportion to its rows (about 1.3 MB at 1,024 zones,
    # docs/security.md); what must stay bounded is how many plans are kept. A count that
    # changes at every poll makes a plan per poll, and only the last two are kept: the
    # one before is found again, the one before that is planned anew. (The whole
    # gateway's RSS under such a panel: tests/hostile/test_hostile_devices.py.)
    cfg = panel(tmp_path, "{modbus_plans: 2}")
    device = cfg.devices[0]
    bus = FakeModbusBus()
    bus.set_values(1, Table.HOLDING, ZONES, [0] * 1024)
    reader = ModbusPointReader(device, cfg.profile_of(device), bus, cfg.site_file.limits)
    counts = [1024 - 61 * i for i in range(16)]
    for count in counts:
        set_zone_count(bus, count)
        result = await reader.poll()
        assert result.reachable, result.error
        zones = {r.instance for r in result.readings if r.point.startswith("zone.")}
        assert len(zones) == count
    assert reader.plans_made == 16
    set_zone_count(bus, counts[-2])  # one of the two kept
    await reader.poll()
    assert reader.plans_made == 16
    set_zone_count(bus, counts[-3])  # the third most recent: dropped
    result = await reader.poll()
    assert reader.plans_made == 17
    zones = {r.instance for r in result.readings if r.point.startswith("zone.")}
    assert len(zones) == counts[-3]


async def test_a_count_above_the_limit_reads_that_many_rows(tmp_path: Path) -> None:
    cfg = panel(tmp_path)  # the default: 1,024 rows
    device = cfg.devices[0]
    bus = FakeModbusBus()
    bus.set_values(1, Table.HOLDING, ZONES, [0] * 4096)
    reader = ModbusPointReader(device, cfg.profile_of(device), bus, cfg.site_file.limits)
    set_zone_count(bus, 60_000)
    result = await reader.poll()
    zones = {r.instance for r in result.readings if r.point.startswith("zone.")}
    assert len(zones) == 1024


async def test_a_steady_zone_count_is_planned_once(tmp_path: Path) -> None:
    cfg = panel(tmp_path, "{modbus_plans: 2}")
    device = cfg.devices[0]
    bus = FakeModbusBus()
    bus.set_values(1, Table.HOLDING, ZONES, [0] * 64)
    reader = ModbusPointReader(device, cfg.profile_of(device), bus, cfg.site_file.limits)
    set_zone_count(bus, 8)
    await reader.poll()
    bus.requests.clear()
    for count in (8, 9, 8, 9):  # a zone flips in and out: both plans stay
        set_zone_count(bus, count)
        result = await reader.poll()
        assert len([r for r in result.readings if r.point == "zone.status.alarm"]) == count
    assert reader.plans_made == 2


def float_count_panel(tmp_path: Path) -> LoadedConfig:
    """The shipped panel with its zone count in a float32 input register."""
    profile = (BUILTIN_PROFILES / "alarm-panel-modbus.yaml").read_text()
    profile = profile.replace(
        "panel.zone_count:      {table: holding, address: 2, type: uint16}",
        "panel.zone_count:      {table: input, address: 0, type: float32}",
    )
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "nan-panel.yaml").write_text(profile)
    path = tmp_path / "site.yaml"
    path.write_text(panel(tmp_path).path.read_text().replace("alarm-panel-modbus", "nan-panel"))
    return load_config(path)


async def test_a_count_that_is_not_a_number_reads_no_table(tmp_path: Path) -> None:
    cfg = float_count_panel(tmp_path)
    device = cfg.devices[0]
    bus = FakeModbusBus()
    set_zone_count(bus, 0)
    bus.set_values(1, Table.INPUT, 0, [0x7FC0, 0x0000])  # float32 NaN
    reader = ModbusPointReader(device, cfg.profile_of(device), bus, cfg.site_file.limits)
    result = await reader.poll()
    assert result.reachable, result.error
    assert not [r for r in result.readings if r.point.startswith("zone.")]
