"""A simulated switch read by net-snmp, before and after each fault."""

from __future__ import annotations

import pytest

from tests.realservers import wait_until
from tests.simulators.conftest import (
    Addresses,
    SimFleet,
    TrapReceiver,
    get,
    silent,
    snmp,
    ticks,
    walk,
)

pytestmark = pytest.mark.integration

IF = "1.3.6.1.2.1.2.2.1"
IFX = "1.3.6.1.2.1.31.1.1.1"
SENSOR = "1.3.6.1.2.1.99.1.1.1"
PETH = "1.3.6.1.2.1.105.1.1.1"


def test_system_group_and_moving_uptime(sim: SimFleet, addresses: Addresses) -> None:
    target = addresses.target("sw-acc")
    first = get(target, "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.3.0",
                "1.3.6.1.2.1.1.5.0")  # fmt: skip
    assert first["1.3.6.1.2.1.1.1.0"].startswith('"Cisco IOS Software')
    assert first["1.3.6.1.2.1.1.2.0"] == ".1.3.6.1.4.1.9.1.2896"
    assert first["1.3.6.1.2.1.1.5.0"] == '"sw-acc"'

    def uptime() -> int:
        return ticks(get(target, "1.3.6.1.2.1.1.3.0")["1.3.6.1.2.1.1.3.0"])

    before = uptime()
    wait_until(lambda: uptime() > before, 3, "sysUpTime moving")


def test_interfaces_and_counters_grow(sim: SimFleet, addresses: Addresses) -> None:
    target = addresses.target("sw-acc")
    table = walk(target, IF, bulk=True)
    assert table[f"{IF}.2.1"] == '"GigabitEthernet1/0/1"'
    assert table[f"{IF}.3.1"] == "6"
    assert all(table[f"{IF}.7.{n}"] == "1" and table[f"{IF}.8.{n}"] == "1" for n in range(1, 9))
    names = walk(target, f"{IFX}.1")
    assert names[f"{IFX}.1.8"] == '"Gi1/0/8"'
    aliases = walk(target, f"{IFX}.18")
    assert aliases[f"{IFX}.18.8"] == '"uplink to sw-core"'  # the last port is the uplink
    speeds = walk(target, f"{IFX}.15")
    assert speeds[f"{IFX}.15.1"] == "1000" and speeds[f"{IFX}.15.8"] == "10000"

    def octets() -> int:
        return int(get(target, f"{IFX}.6.3")[f"{IFX}.6.3"])

    before = octets()
    wait_until(lambda: octets() > before, 3, "ifHCInOctets growing")
    core = walk(addresses.target("sw-core"), f"{IFX}.18")
    assert core[f"{IFX}.18.2"] == '"sw-acc"'  # the child hangs off core port 2


def test_port_down_and_admin_down(sim: SimFleet, addresses: Addresses,
                                  trapd: TrapReceiver) -> None:  # fmt: skip
    target = addresses.target("sw-acc")
    mark = trapd.mark()
    sim.client.inject("sw-acc", "port_down", {"port": "3"})
    status = get(target, f"{IF}.7.3", f"{IF}.8.3", f"{IF}.8.4")
    assert (status[f"{IF}.7.3"], status[f"{IF}.8.3"], status[f"{IF}.8.4"]) == ("1", "2", "1")
    trapd.wait_for(
        mark, ".1.3.6.1.6.3.1.1.5.3", f"{IF}.8.3 = INTEGER: 2", source=addresses.host("sw-acc")
    )

    sim.client.inject("sw-acc", "port_admin_down", {"port": "5"})
    status = get(target, f"{IF}.7.5", f"{IF}.8.5")
    assert (status[f"{IF}.7.5"], status[f"{IF}.8.5"]) == ("2", "2")
    trapd.wait_for(
        mark, ".1.3.6.1.6.3.1.1.5.3", f"{IF}.7.5 = INTEGER: 2", source=addresses.host("sw-acc")
    )

    sim.client.clear("sw-acc", "port_down", {})
    assert get(target, f"{IF}.8.3")[f"{IF}.8.3"] == "1"
    trapd.wait_for(
        mark, ".1.3.6.1.6.3.1.1.5.4", f"{IF}.8.3 = INTEGER: 1", source=addresses.host("sw-acc")
    )
    assert get(target, f"{IF}.8.5")[f"{IF}.8.5"] == "2"  # still disabled


def test_port_errors_grow(sim: SimFleet, addresses: Addresses) -> None:
    target = addresses.target("sw-acc")
    assert get(target, f"{IF}.14.4")[f"{IF}.14.4"] == "0"
    sim.client.inject("sw-acc", "port_errors", {"port": "4", "rate": "500"})

    def errors() -> int:
        return int(get(target, f"{IF}.14.4")[f"{IF}.14.4"])

    wait_until(lambda: errors() > 0, 3, "ifInErrors growing")
    assert get(target, f"{IF}.14.5")[f"{IF}.14.5"] == "0"


def test_sensors_fan_psu_overheat(sim: SimFleet, addresses: Addresses) -> None:
    target = addresses.target("sw-core")
    sensors = walk(target, SENSOR)
    # temperatures 11, 12 (celsius 8); fans 21, 22 (rpm 10); PSUs 31, 32 (truthvalue 12)
    assert [sensors[f"{SENSOR}.1.{i}"] for i in (11, 12, 21, 22, 31, 32)] == [
        "8", "8", "10", "10", "12", "12"]  # fmt: skip
    assert 30 <= int(sensors[f"{SENSOR}.4.11"]) <= 45
    assert int(sensors[f"{SENSOR}.4.21"]) > 3000
    assert sensors[f"{SENSOR}.4.31"] == "1" and sensors[f"{SENSOR}.5.31"] == "1"
    names = walk(target, "1.3.6.1.2.1.47.1.1.1.1.7")
    assert names["1.3.6.1.2.1.47.1.1.1.1.7.22"] == '"Fan 2"'

    sim.client.inject("sw-core", "fan_failed", {"fan": "2"})
    sim.client.inject("sw-core", "psu_failed", {})
    sim.client.inject("sw-core", "overheat", {"celsius": "81"})
    after = get(target, f"{SENSOR}.4.22", f"{SENSOR}.5.22", f"{SENSOR}.4.31", f"{SENSOR}.5.31",
                f"{SENSOR}.4.11", f"{SENSOR}.4.21")  # fmt: skip
    assert after[f"{SENSOR}.4.22"] == "0" and after[f"{SENSOR}.5.22"] == "3"
    assert after[f"{SENSOR}.4.31"] == "2" and after[f"{SENSOR}.5.31"] == "3"
    assert after[f"{SENSOR}.4.11"] == "81"
    assert int(after[f"{SENSOR}.4.21"]) > 3000  # the other fan still spins

    sim.client.clear("sw-core", None, {})
    restored = get(target, f"{SENSOR}.4.22", f"{SENSOR}.4.31", f"{SENSOR}.4.11")
    assert int(restored[f"{SENSOR}.4.22"]) > 3000 and restored[f"{SENSOR}.4.31"] == "1"
    assert int(restored[f"{SENSOR}.4.11"]) < 50


def test_poe(sim: SimFleet, addresses: Addresses) -> None:
    target = addresses.target("sw-acc")
    poe = walk(target, PETH)
    assert poe[f"{PETH}.3.1.1"] == "1" and poe[f"{PETH}.6.1.1"] == "3"  # delivering power
    assert poe[f"{PETH}.3.1.8"] == "2"  # the uplink port has no PoE
    sim.client.inject("sw-acc", "poe_fault", {"port": "2"})
    sim.client.inject("sw-acc", "port_down", {"port": "6"})
    after = get(target, f"{PETH}.6.1.2", f"{PETH}.6.1.6")
    assert after[f"{PETH}.6.1.2"] == "4" and after[f"{PETH}.6.1.6"] == "2"  # fault, searching
    assert walk(addresses.target("sw-core"), PETH) == {}  # sw-core has poe: false


def test_down_is_silent_and_restart_resets_uptime(
    sim: SimFleet, addresses: Addresses, trapd: TrapReceiver
) -> None:
    target = addresses.target("sw-acc")
    mark = trapd.mark()
    sim.client.inject("sw-acc", "down", {})
    assert silent(target)
    before = len(trapd.traps())
    sim.client.clear("sw-acc", "down", {})
    line = trapd.wait_for(mark, ".1.3.6.1.6.3.1.1.5.1", source=addresses.host("sw-acc"))
    assert len(trapd.traps()) > before and "Timeticks: (0)" in line
    assert ticks(get(target, "1.3.6.1.2.1.1.3.0")["1.3.6.1.2.1.1.3.0"]) < 300  # just booted


def test_child_is_silent_behind_a_dead_uplink(sim: SimFleet, addresses: Addresses) -> None:
    sim.client.inject("sw-core", "port_down", {"port": "2"})
    assert silent(addresses.target("sw-acc"))
    assert get(addresses.target("sw-core"), "1.3.6.1.2.1.1.5.0")  # the core still answers
    sim.client.clear("sw-core", "port_down", {"port": "2"})
    assert get(addresses.target("sw-acc"), "1.3.6.1.2.1.1.5.0")


def test_wrong_community_gets_no_answer(sim: SimFleet, addresses: Addresses) -> None:
    result = snmp("snmpget", addresses.target("sw-core"), "1.3.6.1.2.1.1.5.0",
                  community="private", check=False)  # fmt: skip
    assert result.returncode != 0 and "Timeout" in result.stderr
