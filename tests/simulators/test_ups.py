"""A simulated UPS (RFC 1628) read by net-snmp, before and after each fault."""

from __future__ import annotations

import pytest

from tests.realservers import wait_until
from tests.simulators.conftest import Addresses, SimFleet, TrapReceiver, get, walk

pytestmark = pytest.mark.integration

UPS = "1.3.6.1.2.1.33.1"
BATTERY = [f"{UPS}.2.{n}.0" for n in (1, 2, 3, 4, 5)]  # status, seconds, minutes, charge, V


def battery(target: str) -> list[int]:
    found = get(target, *BATTERY)
    return [int(found[name]) for name in BATTERY]


def test_on_mains(sim: SimFleet, addresses: Addresses) -> None:
    target = addresses.target("ups")
    assert battery(target) == [2, 0, 30, 100, 546]
    state = get(target, f"{UPS}.3.3.1.3.1", f"{UPS}.4.1.0", f"{UPS}.4.4.1.5.1", f"{UPS}.6.1.0")
    assert list(state.values()) == ["230", "3", "35", "0"]
    assert walk(target, f"{UPS}.6.2") == {}  # no alarms


def test_on_battery_discharges_to_low_then_depleted(
    sim: SimFleet, addresses: Addresses, trapd: TrapReceiver
) -> None:
    target = addresses.target("ups-flat")
    mark = trapd.mark()
    sim.client.inject("ups-flat", "on_battery", {"minutes": "0.05"})  # a 3-second battery
    trapd.wait_for(mark, "1.3.6.1.2.1.33.2.1", f"{UPS}.2.2.0", source=addresses.host("ups"))
    state = get(target, f"{UPS}.3.3.1.3.1", f"{UPS}.4.1.0")
    assert list(state.values()) == ["0", "5"]  # no input voltage, output on battery
    # With under 2 minutes left the battery is low at once: on battery + low battery.
    assert set(walk(target, f"{UPS}.6.2.1.2").values()) == {f".{UPS}.6.3.2", f".{UPS}.6.3.3"}
    first = battery(target)
    assert first[0] == 3 and first[3] < 100
    wait_until(lambda: battery(target)[3] < first[3], 3, "charge falling")
    wait_until(lambda: battery(target)[1] >= 1, 3, "seconds on battery counting")
    wait_until(lambda: battery(target)[0] == 4, 5, "battery depleted")
    assert get(target, f"{UPS}.4.1.0")[f"{UPS}.4.1.0"] == "2"  # output source: none
    descr = set(walk(target, f"{UPS}.6.2.1.2").values())
    assert descr == {f".{UPS}.6.3.2", f".{UPS}.6.3.4"}  # on battery, depleted
    sim.client.clear("ups-flat", "on_battery", {})
    after = battery(target)
    assert after[0] == 2 and after[1] == 0 and after[4] == 546  # floating on mains again
    assert get(target, f"{UPS}.4.1.0")[f"{UPS}.4.1.0"] == "3"


def test_battery_low_and_overload(sim: SimFleet, addresses: Addresses) -> None:
    target = addresses.target("ups")
    sim.client.inject("ups", "battery_low", {})
    sim.client.inject("ups", "overload", {"load": "130"})
    assert battery(target)[0] == 3
    state = get(target, f"{UPS}.4.4.1.5.1", f"{UPS}.6.1.0")
    assert list(state.values()) == ["130", "2"]
    assert set(walk(target, f"{UPS}.6.2.1.2").values()) == {f".{UPS}.6.3.3", f".{UPS}.6.3.8"}
    sim.client.clear("ups", None, {})
    assert battery(target)[0] == 2
    assert get(target, f"{UPS}.6.1.0")[f"{UPS}.6.1.0"] == "0"


def test_a_real_battery_stays_normal_at_first(sim: SimFleet, addresses: Addresses) -> None:
    target = addresses.target("ups")
    sim.client.inject("ups", "on_battery", {})  # the fleet's 30-minute battery
    status, _seconds, minutes, charge, volts = battery(target)
    assert (status, minutes, charge) == (2, 30, 100) and 500 <= volts < 546
    assert set(walk(target, f"{UPS}.6.2.1.2").values()) == {f".{UPS}.6.3.2"}
