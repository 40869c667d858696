"""net-snmp's snmpget and snmpwalk referee the vendor MIBs the simulated Synology
recorder (SYNOLOGY-SYSTEM/DISK/RAID-MIB) and FreeSWITCH (FREESWITCH-MIB) serve: the
values are those the vendors' documents define, before and after a fault, and they are
what the gateway's reader reads from the same simulator with the profiles
nvr-synology and pbx-freeswitch. snmptrapd hears FreeSWITCH's host send coldStart on
a restart, and nothing from the Synology (DSM sends no traps)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realservers import wait_until
from tests.simulators.conftest import (
    SimFleet,
    TrapReceiver,
    fleet_with_site,
    free_port_on,
    gateway_readings,
    get,
    ticks,
    walk,
)

pytestmark = pytest.mark.integration

HOST = "127.0.0.1"
SYSTEM = "1.3.6.1.4.1.6574.1"
DISK = "1.3.6.1.4.1.6574.2.1.1"
RAID = "1.3.6.1.4.1.6574.3.1.1"
FS = "1.3.6.1.4.1.27880.1"
COLD_START = "1.3.6.1.6.3.1.1.5.1"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def vendors(
    tmp_path_factory: pytest.TempPathFactory, trapd: TrapReceiver
) -> Iterator[tuple[SimFleet, dict[str, str], Path]]:
    workdir = tmp_path_factory.mktemp("vendor-mibs")
    ports = {device: free_port_on(HOST) for device in ("syno", "fs")}
    fleet = (
        f"defaults: {{trap_receivers: ['{trapd.host}:{trapd.port}']}}\n"
        "site: {id: vendor-mibs}\ndevices:\n"
        f"  - {{id: syno, kind: nvr, model: synology-dva, address: {HOST},"
        f" port: {ports['syno']}, disks: 3, cameras: 4}}\n"
        f"  - {{id: fs, kind: pbx, model: freeswitch, address: {HOST}, port: {ports['fs']},"
        " trunks: 2, channels_per_trunk: 30, max_sessions: 500}\n"
    )
    with fleet_with_site(workdir, fleet) as (sim, site):
        yield sim, {d: f"{HOST}:{p}" for d, p in ports.items()}, site


def test_synology_disks_and_volume_as_the_mib_guide_defines_them(
    vendors: tuple[SimFleet, dict[str, str], Path],
) -> None:
    sim, targets, site = vendors
    target = targets["syno"]
    system = get(target, f"{SYSTEM}.1.0", f"{SYSTEM}.3.0", f"{SYSTEM}.5.1.0")
    assert list(system.values()) == ["1", "1", '"DVA3221"']  # Normal, Normal, modelName
    assert walk(target, f"{DISK}.5") == {f"{DISK}.5.{n}": "1" for n in range(3)}
    assert walk(target, f"{RAID}.3") == {f"{RAID}.3.0": "1"}  # Normal(1)
    # raidIndex is not-accessible: the walk of the entry starts at raidName.
    assert next(iter(walk(target, RAID))) == f"{RAID}.2.0"

    with sim.faulted("syno", ("disk_failed", {"disk": "2"})):
        status = walk(target, f"{DISK}.5")
        raid = get(target, f"{RAID}.3.0", f"{RAID}.4.0", f"{RAID}.5.0", f"{SYSTEM}.1.0")
        ours = gateway_readings(site, "syno")
    assert status == {f"{DISK}.5.0": "1", f"{DISK}.5.1": "5", f"{DISK}.5.2": "1"}  # Crashed(5)
    assert raid[f"{RAID}.3.0"] == "11"  # Degrade: one disk of three lost
    assert raid[f"{SYSTEM}.1.0"] == "1"  # systemStatus stays Normal: no volume crashed
    assert (ours["disk.status/1"], ours["raid.status/0"]) == ("crashed", "degraded")
    # Counter64 bytes, read by the profile in MB (scaled by 2^-20).
    assert ours["raid.capacity/0"] == int(raid[f"{RAID}.5.0"]) / MB
    assert abs(float(str(ours["raid.free/0"])) - int(raid[f"{RAID}.4.0"]) / MB) < 1000


def test_synology_two_disks_lost_crash_the_volume_and_health_is_read(
    vendors: tuple[SimFleet, dict[str, str], Path],
) -> None:
    sim, targets, site = vendors
    target = targets["syno"]
    with sim.faulted(
        "syno",
        ("disk_failed", {"disk": "1"}),
        ("disk_failed", {"disk": "3", "status": "6"}),  # gone: Crashed
    ):
        crashed = get(target, f"{RAID}.3.0", f"{SYSTEM}.1.0")
    assert list(crashed.values()) == ["12", "2"]  # Crashed(12); systemStatus Failed(2)

    with sim.faulted("syno", ("disk_failed", {"disk": "3", "status": "3"})):  # SMART failing
        health = walk(target, f"{DISK}.13")
        ours = gateway_readings(site, "syno")
    assert health == {f"{DISK}.13.0": "1", f"{DISK}.13.1": "1", f"{DISK}.13.2": "4"}
    assert (ours["disk.status/2"], ours["disk.health/2"]) == ("normal", "failing")


def test_freeswitch_sessions_as_mod_snmp_serves_them(
    vendors: tuple[SimFleet, dict[str, str], Path],
) -> None:
    _, targets, site = vendors
    target = targets["fs"]
    stats = get(target, *(f"{FS}.2.{n}.0" for n in (3, 4, 5, 7)))
    sessions, allowed, calls, per_second = (int(v) for v in stats.values())
    assert (allowed, per_second) == (500, 30)  # max-sessions as set; sessions-per-second
    assert sessions == 2 * calls and calls >= 2  # two legs a call; a call a trunk at least
    assert walk(target, "1.3.6.1.4.1.22736") == {}  # no ASTERISK-MIB, no trunk subtree
    ours = gateway_readings(site, "fs")
    assert ours["pbx.version"] == get(target, f"{FS}.1.1.0")[f"{FS}.1.1.0"].strip('"')
    assert ours["pbx.max_sessions"] == 500
    uptime = ticks(get(target, f"{FS}.2.1.0")[f"{FS}.2.1.0"])
    assert abs(float(str(ours["pbx.uptime"])) - uptime / 100) < 5


def test_freeswitch_restart_sends_cold_start_and_synology_sends_nothing(
    vendors: tuple[SimFleet, dict[str, str], Path], trapd: TrapReceiver
) -> None:
    sim, targets, _ = vendors

    def fs_uptime() -> int:
        return ticks(get(targets["fs"], f"{FS}.2.1.0")[f"{FS}.2.1.0"])

    wait_until(lambda: fs_uptime() > 100, 5.0, "FreeSWITCH up for a second")
    before = fs_uptime()
    mark = trapd.mark()
    sim.client.inject("syno", "restart", {})
    sim.client.inject("fs", "restart", {})
    trapd.wait_for(mark, COLD_START, source=HOST)
    assert fs_uptime() < before  # FREESWITCH-MIB uptime started over with the process
    # The Synology's restart came first: had it sent anything, it would be here too.
    heard = trapd.traps()[mark:]
    assert len(heard) == 1 and COLD_START in heard[0], heard
