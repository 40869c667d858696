"""The pre-visit report's fans and temperatures of the vendors' switches and recorder,
as `lvgw run` reads them from lvgw-sim: sw-hw (HUAWEI-ENTITY-EXTENT-MIB), sw-acc
(CISCO-ENVMON-MIB), sw-h3c (HH3C-ENTITY-EXT-MIB) and nvr-syno (SYNOLOGY-SYSTEM-MIB and
SYNOLOGY-DISK-MIB), each with its vendor's profile. Each device's fans and
temperatures are measured (never "not measured"), with the values the simulator
serves; a fan the simulator stops is a failed check and a fan to bring."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import FleetSite
from tests.e2e.test_offsite import lvgw_report

# Each device, the fan the simulator's fan_failed stops (as the report names it), and
# the state its vendor's MIB gives a stopped fan.
SWITCHES = {
    "sw-hw": ("fan 0.1", "abnormal"),  # hwEntityFanState abnormal(2); the table has no label
    "sw-acc": ("Fan 1", "critical"),  # ciscoEnvMonFanState critical(3)
    "sw-h3c": ("Fan 1", "fan error"),  # hh3cEntityExtErrorStatus fanError(41)
}
SETTLE = 30.0  # seconds for an injected fault's tickets to resolve once cleared


async def report(config: Path, device: str) -> str:
    return await lvgw_report(config, "md", "--device", device)


def item(text: str, task: str) -> tuple[str, str]:
    """(mark, finding) of the checklist's item ``task``."""
    checklist = text.split("## Preventive-maintenance checklist", 1)[1].split("## Bring along")[0]
    row = next(r for r in checklist.splitlines() if r.startswith("| ") and f" | {task} | " in r)
    mark, _task, finding = (cell.strip() for cell in row.strip("|").split(" | "))
    return mark, finding


def bring(text: str) -> str:
    return text.split("## Bring along", 1)[1]


async def report_until(
    config: Path, device: str, done: Callable[[str], bool], timeout: float = 60
) -> str:
    """The device's report once ``done(report)`` holds (the snapshot is rewritten every
    few seconds, the metric store writes its first samples a few seconds in)."""
    text = ""
    try:
        async with asyncio.timeout(timeout):
            while True:
                text = await report(config, device)
                if done(text):
                    return text
                await asyncio.sleep(1)
    except TimeoutError:
        pytest.fail(f"{device}: not so within {timeout:.0f} s; the last report:\n{text}")


def measured(text: str) -> bool:
    fans, temperatures = item(text, "Fans"), item(text, "Temperatures")
    return "*not measured*" not in (fans[0], temperatures[0]) and "°C" in temperatures[1]


@pytest.mark.parametrize("device", list(SWITCHES))
async def test_a_vendor_switch_fans_and_temperatures_are_measured(
    site: FleetSite, device: str
) -> None:
    text = await report_until(site.config, device, measured)
    fan, _state = SWITCHES[device]
    mark, fans = item(text, "Fans")
    assert mark == "OK"
    assert f"{device} {fan} normal" in fans
    mark, temperatures = item(text, "Temperatures")
    assert mark == "OK"
    assert " Temperature 1 " in temperatures  # the sensor by its name, with its value
    assert "Fan unit" not in bring(text)


@pytest.mark.parametrize("device", list(SWITCHES))
async def test_a_stopped_fan_is_a_failed_check_and_a_part_to_bring(
    site: FleetSite, device: str
) -> None:
    fan, state = SWITCHES[device]
    await report_until(site.config, device, measured)
    await site.inject(device, "fan_failed", fan=1)
    try:
        text = await report_until(
            site.config, device, lambda t: item(t, "Fans")[0] == "**ATTENTION**"
        )
        assert f"{device} {fan} FAILED ({state})" in item(text, "Fans")[1]
        assert f"Fan unit for {device} ({fan})" in bring(text)
    finally:
        await site.settle(SETTLE, device)


async def test_the_synology_recorder_fans_and_temperatures_are_measured(site: FleetSite) -> None:
    text = await report_until(site.config, "nvr-syno", measured)
    mark, fans = item(text, "Fans")
    assert mark == "OK"
    # SYNOLOGY-SYSTEM-MIB systemFanStatus and cpuFanStatus, by their place
    assert "fan 1 normal" in fans and "fan 2 normal" in fans and "nvr." not in fans
    mark, temperatures = item(text, "Temperatures")
    assert mark == "OK"
    # the box's own (SYNOLOGY-SYSTEM-MIB temperature), named by what it means
    assert " Temperature " in temperatures and "nvr.temperature" not in temperatures
    assert "Disk 1 " in temperatures  # and each disk's (SYNOLOGY-DISK-MIB diskTemperature)
