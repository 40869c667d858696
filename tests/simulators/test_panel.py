"""A simulated alarm panel read over Modbus TCP by mbpoll (libmodbus), before and
after each fault. Addresses are 0-based (-0); docs/alarm-panel-modbus.md is the map."""

from __future__ import annotations

import pytest

from tests.realservers import wait_until
from tests.simulators.conftest import SILENCE, Addresses, SimFleet, mbpoll, registers

pytestmark = pytest.mark.integration

UNIT = 3
ARMED = 1 << 4


def read(addresses: Addresses, start: int = 0, count: int = 20, table: int = 4) -> dict[int, int]:
    result = mbpoll(addresses.host("panel"), addresses.ports["panel"], UNIT, start, count, table)
    assert result.returncode == 0, result.stdout + result.stderr
    return registers(result.stdout)


def silent(addresses: Addresses, unit: int = UNIT) -> bool:
    result = mbpoll(addresses.host("panel"), addresses.ports["panel"], unit, 0, 1,
                    flags=("-o", str(SILENCE)))  # fmt: skip
    return result.returncode != 0 and "Connection timed out" in result.stdout + result.stderr


def test_register_map_at_rest(sim: SimFleet, addresses: Addresses) -> None:
    holding = read(addresses)
    assert [holding[a] for a in range(7)][:4] == [ARMED, 1365, 4, 230]
    assert holding[6] == 1  # map version
    assert [holding[16 + z] for z in range(4)] == [0, 0, 0, 0]
    # The input registers mirror the holding ones; only the uptime words (4-5) may have
    # moved on between the two reads. One read of each: reading the input table again
    # for the uptime words would compare two different moments.
    inputs = read(addresses, table=3)
    assert inputs == {**holding, 4: inputs[4], 5: inputs[5]}
    uptime = mbpoll(addresses.host("panel"), addresses.ports["panel"], UNIT, 4, 1,
                    table="4:int", flags=("-B",))  # fmt: skip
    assert uptime.returncode == 0, uptime.stdout
    seconds = registers(uptime.stdout)[4]  # high word first: the same as words 4-5
    assert holding[4] == 0 and holding[5] <= seconds <= holding[5] + 2


def test_out_of_map_write_and_other_units(sim: SimFleet, addresses: Addresses) -> None:
    result = mbpoll(addresses.host("panel"), addresses.ports["panel"], UNIT, 16, 5)
    assert result.returncode != 0 and "Illegal data address" in result.stdout + result.stderr
    write = mbpoll(addresses.host("panel"), addresses.ports["panel"], UNIT, 0, None, write=(0,))
    assert write.returncode != 0 and "Illegal data address" in write.stdout + write.stderr
    assert silent(addresses, unit=1)  # no such unit on this panel


def test_system_faults(sim: SimFleet, addresses: Addresses) -> None:
    for fault, bit in [("comm_lost", 2), ("box_tamper", 3)]:
        sim.client.inject("panel", fault, {})
        assert read(addresses, 0, 1)[0] == ARMED | 1 << bit, fault
        sim.client.clear("panel", fault, {})
    sim.client.inject("panel", "disarmed", {})
    assert read(addresses, 0, 1)[0] == 0
    sim.client.inject("panel", "battery_low", {})
    words = read(addresses, 0, 2)
    assert words == {0: 1 << 1, 1: 1130}


def test_zone_faults(sim: SimFleet, addresses: Addresses) -> None:
    for fault, zone in [("zone_fault", 1), ("zone_tamper", 2), ("detector_battery_low", 3),
                        ("zone_bypass", 4)]:  # fmt: skip
        sim.client.inject("panel", fault, {"zone": str(zone)})
    words = read(addresses)
    assert [words[16 + z] for z in range(4)] == [1 << 2, 1 << 1, 1 << 4, 1 << 3]
    assert words[0] == ARMED | 1 << 6  # zone trouble, no alarm
    sim.client.inject("panel", "zone_alarm", {"zone": "4"})
    words = read(addresses)
    assert words[19] == 1 << 3 | 1 << 0 and words[0] == ARMED | 1 << 5 | 1 << 6
    sim.client.clear("panel", "zone_tamper", {})
    assert read(addresses, 17, 1)[17] == 0


def test_mains_failure_runs_the_battery_flat(sim: SimFleet, addresses: Addresses) -> None:
    sim.client.inject("panel", "mains_fail", {"minutes": "0.05"})  # a 3-second battery
    words = read(addresses, 0, 4)
    assert words[0] & 1 and words[3] == 0 and words[1] <= 1290
    wait_until(lambda: read(addresses, 0, 2)[0] & 0b11 == 0b11, 5, "battery low flag")
    assert read(addresses, 1, 1)[1] < 1150
    wait_until(lambda: silent(addresses), 8, "panel off on a flat battery")
    sim.client.clear("panel", "mains_fail", {})
    words = read(addresses, 0, 6)
    assert words[0] == ARMED and words[1] == 1365
    assert words[4] == 0 and words[5] <= 2  # it just booted


def test_down_and_behind_a_dead_port(sim: SimFleet, addresses: Addresses) -> None:
    sim.client.inject("panel", "down", {})
    assert silent(addresses)
    beyond = mbpoll(addresses.host("panel"), addresses.ports["panel"], UNIT, 100, 1,
                    flags=("-o", str(SILENCE)))  # fmt: skip
    assert beyond.returncode != 0 and "Illegal" not in beyond.stdout + beyond.stderr
    sim.client.clear("panel", "down", {})
    assert read(addresses, 2, 1) == {2: 4}
    port = next(d["parent_port"] for d in sim.client.devices() if d["id"] == "panel")
    sim.client.inject("sw-acc", "port_down", {"port": str(port)})
    assert silent(addresses)
