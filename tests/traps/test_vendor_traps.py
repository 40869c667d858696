"""The vendors' notifications the switch and UPS profiles declare, sent by net-snmp's
snmptrap as the devices send them, become readings of the right device: Cisco's
CISCO-ENVMON-MIB, H3C's HH3C-ENTITY-EXT-MIB, Huawei's HUAWEI-ENTITY-TRAP-MIB (SNMPv2c)
and APC's PowerNet-MIB TRAP-TYPEs (SNMPv1, as a Network Management Card sends them);
FreeSWITCH's host sends only coldStart (FREESWITCH-MIB defines no notification), and a
Synology's DSM none at all (its MIB guide says so): a trap from it only asks for a poll."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drivers.snmp.traps import TrapReceiver
from gateway.config import load_config
from gateway.config.protocols.snmp import traps_settings
from gateway.poller.result import PollResult
from gateway.protocols.snmp.traps import TrapIntake, receiver_config
from tests.realservers import free_port, which

pytestmark = pytest.mark.integration

COMMUNITY = "vendor-traps"
SENDERS = {"ups-apc": "127.0.0.21", "sw-huawei": "127.0.0.22", "sw-h3c": "127.0.0.23",
           "sw-cisco": "127.0.0.24", "pbx-fs": "127.0.0.25", "nvr-syno": "127.0.0.26"}  # fmt: skip
PROFILES = {"ups-apc": ("ups", "ups-apc-powernet"), "sw-huawei": ("switch", "switch-huawei"),
            "sw-h3c": ("switch", "switch-h3c"), "sw-cisco": ("switch", "switch-cisco"),
            "pbx-fs": ("pbx", "pbx-freeswitch"), "nvr-syno": ("nvr", "nvr-synology")}  # fmt: skip
ENVMON = "1.3.6.1.4.1.9.9.13"  # CISCO-ENVMON-MIB ciscoEnvMonMIB
HH3C = "1.3.6.1.4.1.25506.2.6"  # HH3C-ENTITY-EXT-MIB hh3cEntityExtend
HH3C_STATE = f"{HH3C}.1.1.1.1"  # hh3cEntityExtStateEntry
HW_TRAP = "1.3.6.1.4.1.2011.5.25.219"  # HUAWEI-ENTITY-TRAP-MIB hwEntityTrapMIB
ENT_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"  # ENTITY-MIB entPhysicalName


class Intake:
    def __init__(self, port: int, out: asyncio.Queue[PollResult], polled: list[str]) -> None:
        self.port, self.out, self.polled = port, out, polled

    async def v2c(self, device: str, *trap: str) -> PollResult:
        return await self._send(device, "-v", "2c", "-c", COMMUNITY, *self._to(device), "", *trap)

    async def v1(self, device: str, enterprise: str, specific: int) -> PollResult:
        """An SNMPv1 enterprise-specific trap (generic 6) from ``device``'s agent."""
        return await self._send(
            device, "-v", "1", "-c", COMMUNITY, *self._to(device), enterprise,
            SENDERS[device], "6", str(specific), "",
        )  # fmt: skip

    def _to(self, device: str) -> list[str]:
        return [f"--clientaddr={SENDERS[device]}", f"127.0.0.1:{self.port}"]

    async def _send(self, device: str, *args: str) -> PollResult:
        proc = await asyncio.create_subprocess_exec(
            which("snmptrap"), *args, stderr=subprocess.PIPE
        )
        _, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        result = await asyncio.wait_for(self.out.get(), 5)
        assert (result.device, result.source) == (device, "trap")
        assert self.polled[-1] == device  # an immediate poll was asked for
        return result


def readings(result: PollResult) -> dict[tuple[str, str], object]:
    return {(r.point, r.instance): r.value for r in result.readings}


@pytest.fixture
async def intake(tmp_path: Path) -> AsyncIterator[Intake]:
    port = free_port(kind=2)  # SOCK_DGRAM
    devices = "".join(
        f"  - {{id: {d}, kind: {kind}, profile: {profile}, address: {SENDERS[d]}}}\n"
        for d, (kind, profile) in PROFILES.items()
    )
    site = tmp_path / "site.yaml"
    site.write_text(
        "site: {id: s, name: S, customer: {name: C}, contract: {type: annual}}\n"
        "uplink: {mqtt: {host: 127.0.0.1}}\n"
        f"traps: {{listen: '127.0.0.1:{port}', communities: [{COMMUNITY}]}}\n"
        f"devices:\n{devices}"
    )
    config = load_config(site)
    traps = traps_settings(config.site_file)
    assert traps is not None
    out: asyncio.Queue[PollResult] = asyncio.Queue()
    polled: list[str] = []
    async with TrapReceiver(receiver_config(traps)) as receiver:
        task = asyncio.create_task(TrapIntake(config, out, polled.append).run(receiver))
        try:
            yield Intake(port, out, polled)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@dataclass(frozen=True)
class V2c:
    """An SNMPv2c notification: its snmpTrapOID and varbinds, as snmptrap takes them,
    and the readings it must give (all of them)."""

    trap: tuple[str, ...]
    expect: dict[tuple[str, str], object]

    async def send(self, intake: Intake, device: str) -> PollResult:
        return await intake.v2c(device, *self.trap)


@dataclass(frozen=True)
class V1:
    """An SNMPv1 enterprise-specific trap and the readings it must give (all of them)."""

    enterprise: str
    specific: int
    expect: dict[tuple[str, str], object]

    async def send(self, intake: Intake, device: str) -> PollResult:
        return await intake.v1(device, self.enterprise, self.specific)


# The error status comes before the index in the first H3C trap: the index is still read
# from hh3cEntityExtPhysicalIndex (column 1), not from column 19 that it prefixes as text.
VENDORS: dict[str, tuple[str, list[V2c | V1]]] = {
    "cisco-envmon": ("sw-cisco", [
        V2c((f"{ENVMON}.3.0.4",  # ciscoEnvMonFanNotification
             f"{ENVMON}.1.4.1.2.2", "s", "Switch 1 - FAN 2", f"{ENVMON}.1.4.1.3.2", "i", "3"),
            {("trap.fan_notification", ""): True,
             ("trap.fan_notification.descr", ""): "Switch 1 - FAN 2",
             ("trap.fan_notification.state", ""): 3}),  # critical
        V2c((f"{ENVMON}.3.0.5",  # ciscoEnvMonRedundantSupplyNotification
             f"{ENVMON}.1.5.1.2.1", "s", "Power Supply A", f"{ENVMON}.1.5.1.3.1", "i", "4"),
            {("trap.redundant_supply_notification", ""): True,
             ("trap.redundant_supply_notification.descr", ""): "Power Supply A",
             ("trap.redundant_supply_notification.state", ""): 4}),  # shutdown
        V2c((f"{ENVMON}.3.0.3",  # ciscoEnvMonTemperatureNotification
             f"{ENVMON}.1.3.1.2.1", "s", "Inlet", f"{ENVMON}.1.3.1.3.1", "u", "67",
             f"{ENVMON}.1.3.1.6.1", "i", "2"),
            {("trap.temperature_notification", ""): True,
             ("trap.temperature_notification.descr", ""): "Inlet",
             ("trap.temperature_notification.value", ""): 67,
             ("trap.temperature_notification.state", ""): 2}),  # warning
    ]),
    "h3c-entity-ext": ("sw-h3c", [
        V2c((f"{HH3C}.2.0.16",  # hh3cEntityExtFaultAlarmOn
             f"{HH3C_STATE}.19.22", "i", "41", f"{HH3C_STATE}.1.22", "i", "22",
             f"{ENT_NAME}.22", "s", "FAN 2"),
            {("trap.fault_alarm_on", "22"): True,
             ("trap.fault_alarm_on.error_status", "22"): 41}),  # fanError
        V2c((f"{HH3C}.2.0.1",  # hh3cEntityExtTemperatureThresholdNotification
             f"{HH3C_STATE}.1.11", "i", "11", f"{HH3C_STATE}.12.11", "i", "77",
             f"{HH3C_STATE}.13.11", "i", "70"),
            {("trap.temperature_threshold", "11"): True,
             ("trap.temperature_threshold.temperature", "11"): 77,
             ("trap.temperature_threshold.threshold", "11"): 70}),
    ]),
    "huawei-entity-trap": ("sw-huawei", [
        *(V2c((trap, f"{HW_TRAP}.1.1.0", "i", index,  # hwEntityPhysicalIndex
               f"{ENT_NAME}.{index}", "s", "unit", f"{HW_TRAP}.1.3.0", "i", "0"),
              {(f"trap.{name}", index): True})
          for trap, name, index in ((f"{HW_TRAP}.2.6.3", "fan_fail", "21"),
                                    (f"{HW_TRAP}.2.5.3", "power_fail", "31"))),
        V2c((f"{HW_TRAP}.2.10.13",  # hwBrdTempAlarm
             f"{HW_TRAP}.1.1.0", "i", "9", f"{ENT_NAME}.9", "s", "MPU Board 0",
             f"{HW_TRAP}.1.5.1.1.9", "i", "1", f"{HW_TRAP}.1.5.1.5.9", "i", "70",
             f"{HW_TRAP}.1.5.1.3.9", "i", "74", f"{HW_TRAP}.1.3.0", "i", "0"),
            {("trap.board_temperature", "9"): True,
             ("trap.board_temperature.current", "9"): 74,
             ("trap.board_temperature.warning", "9"): 70}),
    ]),
    "apc-powernet-v1": ("ups-apc", [
        V1("1.3.6.1.4.1.318", 5, {("trap.on_battery", ""): True}),  # upsOnBattery
        V1("1.3.6.1.4.1.318", 9, {("trap.power_restored", ""): True}),  # powerRestored
    ]),
}  # fmt: skip


@pytest.mark.parametrize(("device", "notifications"), VENDORS.values(), ids=VENDORS)
async def test_vendor_notifications_become_the_device_s_readings(
    intake: Intake, device: str, notifications: list[V2c | V1]
) -> None:
    for notification in notifications:
        result = await notification.send(intake, device)
        assert readings(result) == notification.expect


async def test_freeswitch_host_cold_start_and_nothing_declared_for_synology(
    intake: Intake,
) -> None:
    cold = await intake.v2c("pbx-fs", "1.3.6.1.6.3.1.1.5.1")  # SNMPv2-MIB coldStart
    assert readings(cold) == {("trap.cold_start", ""): True}
    # nvr-synology declares no notification: one from the box asks for a poll, and
    # gives no reading.
    proc = await asyncio.create_subprocess_exec(
        which("snmptrap"), "-v", "2c", "-c", COMMUNITY, *intake._to("nvr-syno"), "",
        "1.3.6.1.6.3.1.1.5.1", stderr=subprocess.PIPE,
    )  # fmt: skip
    assert await proc.wait() == 0
    async with asyncio.timeout(5):
        while intake.polled[-1] != "nvr-syno":
            await asyncio.sleep(0.01)
    assert intake.out.empty()
