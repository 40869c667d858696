"""A simulated NVR read by net-snmp, before and after each fault."""

from __future__ import annotations

import time

import pytest

from tests.realservers import wait_until
from tests.simulators.conftest import Addresses, SimFleet, TrapReceiver, get, walk

pytestmark = pytest.mark.integration

HIK = "1.3.6.1.4.1.50001.1"
DISK = f"{HIK}.241.1"
SIM = "1.3.6.1.4.1.50001.99"
CAM = f"{SIM}.2.1"


def free_mb(target: str, disk: int) -> int:
    return int(get(target, f"{DISK}.4.{disk}")[f"{DISK}.4.{disk}"])


def test_scalars_disks_and_cameras(sim: SimFleet, addresses: Addresses) -> None:
    target = addresses.target("nvr")
    scalars = get(target, f"{HIK}.100.0", f"{HIK}.230.0", f"{HIK}.240.0", f"{SIM}.1.0",
                  f"{SIM}.3.0")  # fmt: skip
    assert [scalars[k] for k in sorted(scalars)] == ["2", "1", "2", "4", "1"]
    disks = walk(target, DISK)
    assert disks[f"{DISK}.2.1"] == '"HDD1"' and disks[f"{DISK}.3.1"] == "0"
    capacity = int(disks[f"{DISK}.5.1"])
    assert capacity == 3_815_447 and 0 < int(disks[f"{DISK}.4.1"]) < capacity
    cameras = walk(target, CAM)
    assert cameras[f"{CAM}.2.4"] == '"Camera 04"'
    assert all(cameras[f"{CAM}.3.{n}"] == "1" and cameras[f"{CAM}.4.{n}"] == "1" for n in (1, 4))
    assert cameras[f"{CAM}.5.1"] == "16384"


def test_disks_fill_while_recording(sim: SimFleet, addresses: Addresses) -> None:
    target = addresses.target("nvr")
    before = free_mb(target, 1)
    wait_until(lambda: free_mb(target, 1) < before, 3, "disk 1 filling")


def test_disk_failed_and_recovered(
    sim: SimFleet, addresses: Addresses, trapd: TrapReceiver
) -> None:
    target = addresses.target("nvr")
    mark = trapd.mark()
    sim.client.inject("nvr", "disk_failed", {"disk": "2", "status": "3"})
    assert get(target, f"{DISK}.3.2")[f"{DISK}.3.2"] == "3"  # smartfailed
    assert get(target, f"{DISK}.3.1")[f"{DISK}.3.1"] == "0"
    trapd.wait_for(mark, f"{SIM}.0.1", f"{DISK}.3.2 = INTEGER: 3", source=addresses.host("nvr"))
    frozen = free_mb(target, 2)
    sim.client.clear("nvr", "disk_failed", {})
    assert get(target, f"{DISK}.3.2")[f"{DISK}.3.2"] == "0"
    trapd.wait_for(mark, f"{SIM}.0.2", f"{DISK}.1.2 = INTEGER: 2", source=addresses.host("nvr"))
    wait_until(lambda: free_mb(target, 2) < frozen, 3, "disk 2 written again")


def test_disk_full(sim: SimFleet, addresses: Addresses) -> None:
    target = addresses.target("nvr")
    sim.client.inject("nvr", "disk_full", {"disk": "1"})
    assert free_mb(target, 1) == 0
    sim.client.clear("nvr", "disk_full", {})
    assert free_mb(target, 1) > 0


def test_camera_offline_by_channel_and_count(
    sim: SimFleet, addresses: Addresses, trapd: TrapReceiver
) -> None:
    target = addresses.target("nvr")
    mark = trapd.mark()
    sim.client.inject("nvr", "camera_offline", {"channel": "3"})
    cams = walk(target, CAM)
    assert (cams[f"{CAM}.3.3"], cams[f"{CAM}.4.3"], cams[f"{CAM}.5.3"]) == ("2", "2", "0")
    assert cams[f"{CAM}.3.2"] == "1"
    trapd.wait_for(mark, f"{SIM}.0.3", f'{CAM}.2.3 = STRING: "Camera 03"',
                   source=addresses.host("nvr"))  # fmt: skip
    sim.client.inject("nvr", "camera_offline", {"count": "2"})
    cams = walk(target, f"{CAM}.3")
    assert [cams[f"{CAM}.3.{n}"] for n in (1, 2, 3, 4)] == ["2", "2", "2", "1"]
    sim.client.clear("nvr", "camera_offline", {"channel": "3"})
    cams = walk(target, f"{CAM}.3")
    assert [cams[f"{CAM}.3.{n}"] for n in (1, 2, 3, 4)] == ["2", "2", "1", "1"]
    trapd.wait_for(mark, f"{SIM}.0.4", f"{CAM}.1.3 = INTEGER: 3", source=addresses.host("nvr"))


def test_recording_stopped(sim: SimFleet, addresses: Addresses) -> None:
    target = addresses.target("nvr")
    sim.client.inject("nvr", "recording_stopped", {})
    state = get(target, f"{SIM}.3.0", f"{CAM}.4.1", f"{CAM}.3.1")
    assert (state[f"{SIM}.3.0"], state[f"{CAM}.4.1"], state[f"{CAM}.3.1"]) == ("2", "2", "1")
    first = [free_mb(target, 1), free_mb(target, 2)]
    # Not a readiness wait: recording would take ~4 MB from each disk in this time.
    time.sleep(1.2)
    assert [free_mb(target, 1), free_mb(target, 2)] == first
    sim.client.clear("nvr", "recording_stopped", {})
    assert get(target, f"{SIM}.3.0")[f"{SIM}.3.0"] == "1"
    wait_until(lambda: free_mb(target, 1) < first[0], 3, "recording again")
