"""Every SNMP kind: a restart resets sysUpTime and sends coldStart from the device's
address; a device that is down answers nothing (v2c or v3) until it boots again."""

from __future__ import annotations

import pytest

from tests.realservers import wait_until
from tests.simulators.conftest import (
    Addresses,
    SimFleet,
    TrapReceiver,
    get,
    silent,
    ticks,
)

pytestmark = pytest.mark.integration

UPTIME = "1.3.6.1.2.1.1.3.0"
COLD_START = ".1.3.6.1.6.3.1.1.5.1"
DEVICES = ["sw-acc", "nvr", "pbx", "ups"]


def uptime(target: str) -> int:
    return ticks(get(target, UPTIME, v3=True)[UPTIME])


@pytest.mark.parametrize("device", DEVICES)
def test_restart_resets_uptime_and_sends_cold_start(
    sim: SimFleet, addresses: Addresses, trapd: TrapReceiver, device: str
) -> None:
    target = addresses.target(device)
    wait_until(lambda: uptime(target) > 100, 5, f"{device} up for a second")
    before = uptime(target)
    mark = trapd.mark()
    sim.client.inject(device, "restart", {})
    line = trapd.wait_for(mark, COLD_START, source=addresses.host(device))
    assert f":{addresses.ports[device]}->" in line  # from the device's own socket
    assert uptime(target) < before
    assert sim.client.devices()[[d["id"] for d in sim.client.devices()].index(device)][
        "faults"] == []  # a restart is momentary  # fmt: skip


@pytest.mark.parametrize("device", DEVICES)
def test_down_answers_nothing_until_it_boots(
    sim: SimFleet, addresses: Addresses, trapd: TrapReceiver, device: str
) -> None:
    target = addresses.target(device)
    sim.client.inject(device, "down", {})
    assert silent(target) and silent(target, v3=True)
    mark = trapd.mark()
    sim.client.clear(device, "down", {})
    trapd.wait_for(mark, COLD_START, source=addresses.host(device))
    assert uptime(target) < 300
