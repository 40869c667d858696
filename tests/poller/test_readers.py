"""The poller's readers: profile points -> readings, against fakes and a real snmpd."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.modbus import FakeModbusBus, Table
from drivers.snmp.driver import SnmpDriver
from drivers.snmp.fake import FakeSnmpClient
from gateway.config import load_config
from gateway.config.load import LoadedConfig
from gateway.model import Quality
from gateway.poller.rates import CounterRates
from gateway.poller.result import PollResult
from gateway.protocols.modbus.reader import ModbusPointReader
from gateway.protocols.snmp.reader import SnmpPointReader
from tests.realservers import Snmpd

HEAD = """\
site: {id: s, name: S, customer: {name: C}, contract: {type: annual}}
uplink: {mqtt: {host: 127.0.0.1}}
"""


def config(tmp_path: Path, devices: str, profiles: dict[str, str] | None = None) -> LoadedConfig:
    for name, text in (profiles or {}).items():
        (tmp_path / "profiles").mkdir(exist_ok=True)
        (tmp_path / "profiles" / f"{name}.yaml").write_text(text)
    path = tmp_path / "site.yaml"
    path.write_text(HEAD + "devices:\n" + devices)
    return load_config(path)


async def poll_real(cfg: LoadedConfig) -> PollResult:
    """One poll of the site's first device over the real SNMP driver."""
    device = cfg.devices[0]
    driver = SnmpDriver()
    try:
        return await SnmpPointReader(device, cfg.profile_of(device), driver).poll()
    finally:
        await driver.close()


def by_name(readings: tuple[object, ...]) -> dict[tuple[str, str], object]:
    return {(r.point, r.instance): r.value for r in readings}  # type: ignore[attr-defined]


@pytest.mark.integration
async def test_switch_profile_reads_system_group_and_interfaces_from_real_snmpd(
    tmp_path: Path, snmpd: Snmpd
) -> None:
    cfg = config(
        tmp_path,
        f"  - {{id: sw, kind: switch, profile: switch-generic, address: 127.0.0.1, port: {snmpd.port}}}\n",
    )
    result = await poll_real(cfg)
    assert result.reachable, result.error
    values = by_name(result.readings)
    assert values[("sys.name", "")] == "lvgw-test-switch"
    assert isinstance(values[("sys.uptime", "")], float)
    assert str(values[("sys.object_id", "")]).startswith("1.3.6.1.4.1.8072")  # net-snmp's own
    # snmpd on loopback has at least `lo` (ifIndex 1), up.
    assert values[("if.descr", "1")] == "lo"
    assert values[("if.oper_status", "1")] == "up"
    assert values[("if.admin_status", "1")] == "up"
    assert values[("if.speed", "1")] is not None


@pytest.mark.integration
async def test_wrong_community_is_unreachable_with_a_reason(tmp_path: Path, snmpd: Snmpd) -> None:
    cfg = config(
        tmp_path,
        f"  - {{id: sw, kind: switch, profile: switch-generic, address: 127.0.0.1, port: {snmpd.port},"
        " snmp: {community: wrong, timeout: 0.3s, retries: 0}}\n",
    )
    result = await poll_real(cfg)
    assert not result.reachable
    assert "SnmpTimeout" in result.error
    assert by_name(result.readings) == {("reachable", ""): False}


@pytest.mark.integration
async def test_v3_authpriv_reads_the_system_group(tmp_path: Path, snmpd: Snmpd) -> None:
    (tmp_path / "auth.key").write_text(Snmpd.V3_AUTH + "\n")
    (tmp_path / "priv.key").write_text(Snmpd.V3_PRIV + "\n")
    cfg = config(
        tmp_path,
        f"  - {{id: sw, kind: switch, profile: switch-generic, address: 127.0.0.1, port: {snmpd.port},"
        f" snmp: {{version: 3, user: {Snmpd.V3_USER}, auth: sha, auth_key_file: auth.key,"
        " priv: aes, priv_key_file: priv.key}}\n",
    )
    result = await poll_real(cfg)
    assert result.reachable, result.error
    assert by_name(result.readings)[("sys.name", "")] == "lvgw-test-switch"


async def test_counter_rates_states_and_a_missing_value(tmp_path: Path) -> None:
    cfg = config(
        tmp_path, "  - {id: sw, kind: switch, profile: switch-generic, address: 10.0.0.1}\n"
    )
    device = cfg.devices[0]
    fake = FakeSnmpClient()
    fake.set_values("10.0.0.1", 161, {
        "1.3.6.1.2.1.1.5.0": b"edge-1",
        "1.3.6.1.2.1.2.2.1.8.7": 2,
        "1.3.6.1.2.1.2.2.1.14.7": 2**32 - 100,
        "1.3.6.1.2.1.31.1.1.1.6.7": 1000,
    })  # fmt: skip
    reader = SnmpPointReader(device, cfg.profile_of(device), fake)
    first = by_name((await reader.poll()).readings)
    assert first[("if.oper_status", "7")] == "down"
    assert ("if.in_errors.rate", "7") not in first  # no rate from one sample
    quality = {r.point: r.quality for r in (await reader.poll()).readings}
    assert quality["sys.descr"] is Quality.ABSENT  # the agent has no sysDescr (noSuchObject)
    fake.set_values("10.0.0.1", 161, {
        "1.3.6.1.2.1.2.2.1.14.7": 50,  # wrapped past 2**32
        "1.3.6.1.2.1.31.1.1.1.6.7": 5000,
    })  # fmt: skip
    third = by_name((await reader.poll()).readings)
    assert isinstance(in_errors := third[("if.in_errors.rate", "7")], float)
    assert in_errors > 0
    assert isinstance(in_octets := third[("if.in_octets.rate", "7")], float)
    assert in_octets > 0


def test_counter_rates_wrap_and_reset() -> None:
    rates = CounterRates()
    assert rates.rate("p", "1", "counter32", 2**32 - 10, 0.0) is None
    assert rates.rate("p", "1", "counter32", 10, 2.0) == pytest.approx(10.0)  # wrapped by 20
    assert rates.rate("p", "1", "counter32", 5, 3.0) is None  # went down early: a reset, no rate
    assert rates.rate("p", "1", "counter64", 105, 4.0) == pytest.approx(100.0)
    assert rates.rate("p", "1", "counter64", 105, 4.0) is None  # no time passed


def test_counter_rates_are_kept_per_name_and_instance_and_forgotten() -> None:
    rates = CounterRates()
    assert rates.rate("in", "1", "counter64", 2**64 - 1, 0.0) is None
    assert rates.rate("in", "2", "counter64", 100, 0.0) is None
    assert rates.rate("out", "1", "counter64", 50, 0.0) is None
    assert rates.rate("in", "2", "counter64", 300, 2.0) == pytest.approx(100.0)
    assert rates.rate("out", "1", "counter64", 70, 2.0) == pytest.approx(10.0)
    # The largest counter64 value is kept exactly: a reset from it gives no rate.
    assert rates.rate("in", "1", "counter64", 2**64 - 1 - 40, 4.0) is None
    assert rates.rate("in", "1", "counter64", 2**64 - 1, 8.0) == pytest.approx(10.0)
    assert len(rates) == 3
    rates.forget()  # the device went away: its next values start over
    assert len(rates) == 0
    assert rates.rate("in", "2", "counter64", 500, 10.0) is None
    assert rates.rate("in", "2", "counter64", 600, 11.0) == pytest.approx(100.0)


def test_a_value_outside_64_bits_is_remembered_exactly() -> None:
    rates = CounterRates()
    assert rates.rate("odd", "", "integer", -5, 0.0) is None
    assert rates.rate("odd", "", "integer", 2**70, 1.0) == pytest.approx(2**70 + 5)
    assert rates.rate("odd", "", "integer", 2**70 + 8, 3.0) == pytest.approx(4.0)
    assert rates.rate("odd", "", "integer", 8, 5.0) is None  # went down: no rate
    assert rates.rate("odd", "", "integer", 10, 6.0) == pytest.approx(2.0)


async def test_a_down_device_is_probed_cheaply_then_read_in_full(tmp_path: Path) -> None:
    cfg = config(
        tmp_path, "  - {id: sw, kind: switch, profile: switch-generic, address: 10.0.0.1}\n"
    )
    device = cfg.devices[0]
    fake = FakeSnmpClient()
    fake.set_values("10.0.0.1", 161, {"1.3.6.1.2.1.1.5.0": b"edge-1"})
    reader = SnmpPointReader(device, cfg.profile_of(device), fake)
    fake.set_timeout("10.0.0.1", 161)
    assert not (await reader.poll()).reachable
    fake.calls.clear()
    assert not (await reader.poll()).reachable
    assert [(c.kind, len(c.oids), c.target.retries) for c in fake.calls] == [("get", 1, 0)]
    fake.set_timeout("10.0.0.1", 161, False)
    back = await reader.poll()
    assert back.reachable
    assert by_name(back.readings)[("sys.name", "")] == "edge-1"


PANEL = """\
description: test panel
kinds: [alarm_panel]
protocol: modbus
points:
  panel.system:
    table: holding
    address: 0
    type: bitfield
    bits: {0: mains_fail, 1: battery_low}
  panel.battery: {table: input, address: 0, type: uint16, scale: 0.01, unit: V}
  panel.zones: {table: holding, address: 1, type: uint16}
tables:
  zone:
    instance: zone
    count_point: panel.zones
    base: 10
    columns:
      status: {table: holding, address: 0, type: bitfield, bits: {0: alarm, 2: fault}}
rules:
  - {code: device.unreachable, type: unreachable, title: "Panel {device} silent", level: 1}
"""


async def test_modbus_reader_bitfields_scaling_and_a_table_sized_by_a_point(tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        "  - {id: p, kind: alarm_panel, profile: panel, address: 10.0.0.9, port: 502, modbus: {unit: 3}}\n",
        {"panel": PANEL},
    )
    device = cfg.devices[0]
    bus = FakeModbusBus()
    bus.set_values(3, Table.HOLDING, 0, [0b01, 3])
    bus.set_values(3, Table.INPUT, 0, [1325])
    bus.set_values(3, Table.HOLDING, 10, [0, 0b100, 0b001])
    reader = ModbusPointReader(device, cfg.profile_of(device), bus)
    result = await reader.poll()
    assert result.reachable, result.error
    values = by_name(result.readings)
    assert values[("panel.system.mains_fail", "")] is True
    assert values[("panel.system.battery_low", "")] is False
    assert values[("panel.battery", "")] == pytest.approx(13.25)
    assert values[("zone.status.fault", "2")] is True
    assert values[("zone.status.alarm", "3")] is True
    assert ("zone.status", "4") not in values  # only as many zones as the panel says
    # Merged requests: system word + zone count in one, battery in one, the zones in one.
    assert len(bus.requests) == 3
    bus.stop_answering(3)
    down = await reader.poll()
    assert not down.reachable
    assert "Timeout" in down.error
