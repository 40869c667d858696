"""A referee no one here wrote: python-amcrest (the client of Home Assistant's Amcrest
integration; Amcrest is a Dahua OEM and the package speaks the Dahua HTTP API) reads
the simulated NVR's Dahua API as it reads a recorder (it tries Basic authentication,
is refused and goes on with digest), and what it reads matches what the gateway's
reader reads from the same simulator: system info, storage, the channels with video
loss, the record modes, the clock, and the attach stream's events."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from amcrest import AmcrestCamera, ApiWrapper

from drivers.tasks import stop_task
from tests.simulators.conftest import SimFleet, fleet_with_site, free_port_on, gateway_readings

pytestmark = pytest.mark.real

HOST = "127.0.0.11"
PASSWORD = "referee-dahua-pw"
ZONE = "Asia/Shanghai"
CHANNELS = 4


@pytest.fixture(scope="module")
def nvr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimFleet, int, Path]]:
    workdir = tmp_path_factory.mktemp("dahua-referee")
    http = free_port_on(HOST, socket.SOCK_STREAM)
    fleet = (
        f"site: {{id: referee, timezone: {ZONE}}}\ndevices:\n"
        f"  - {{id: nvr-ref, kind: nvr, address: {HOST}, port: {free_port_on(HOST)},"
        f" disks: 2, cameras: {CHANNELS}, dahua: {{port: {http}, user: admin,"
        f" password: {PASSWORD}}}}}\n"
    )
    with fleet_with_site(workdir, fleet) as (sim, site):
        yield sim, http, site


def camera(port: int) -> ApiWrapper:
    return AmcrestCamera(HOST, port, "admin", PASSWORD, retries_connection=0).camera


def test_amcrest_reads_system_info_and_clock_as_the_gateway_does(
    nvr: tuple[SimFleet, int, Path],
) -> None:
    _, port, site = nvr
    cam = camera(port)
    ours = gateway_readings(site, "nvr-ref")
    assert cam.machine_name == ours["sys.name"] == "nvr-ref"
    assert cam.device_type == ours["nvr.model"]
    assert cam.serial_number == ours["nvr.serial"]
    version, build = cam.software_information
    assert ours["nvr.firmware"] == f"{version},build:{build.strip()}"
    theirs = cam.current_time.replace(tzinfo=ZoneInfo(ZONE)).timestamp()
    assert abs(theirs - float(ours["sys.date"])) < 5  # type: ignore[arg-type]


def test_amcrest_reads_the_disks_as_the_gateway_does(nvr: tuple[SimFleet, int, Path]) -> None:
    sim, port, site = nvr
    with sim.faulted("nvr-ref", ("disk_failed", {"disk": "2", "status": "2"})):
        cam = camera(port)
        text = cam.storage_device_info
        first_total = cam.storage_total
        ours = gateway_readings(site, "nvr-ref")
    for disk in (1, 2):
        keys = dict(re.findall(rf"list\.info\[{disk - 1}\]\.(\S+?)=(\S+)", text))
        total = sum(float(v) for k, v in keys.items() if k.endswith(".TotalBytes"))
        used = sum(float(v) for k, v in keys.items() if k.endswith(".UsedBytes"))
        assert ours[f"disk.capacity/{disk}"] == total / 2**20
        assert abs(float(ours[f"disk.free/{disk}"]) - (total - used) / 2**20) <= 1  # type: ignore[arg-type]
        errors = {v for k, v in keys.items() if k.endswith(".IsError")}
        assert (ours[f"disk.status/{disk}"] == "abnormal") == ("true" in errors)
    assert (ours["disk.status/1"], ours["disk.status/2"]) == ("normal", "abnormal")
    # amcrest's own figure is the first partition of the first disk: part of ours.
    assert float(first_total[0]) < float(ours["disk.capacity/1"]) * 2**20  # type: ignore[arg-type]


def test_amcrest_reads_channels_and_record_modes_as_the_gateway_does(
    nvr: tuple[SimFleet, int, Path],
) -> None:
    sim, port, site = nvr
    cam = camera(port)
    assert cam.event_channels_happened("VideoLoss") == []
    with sim.faulted("nvr-ref", ("camera_offline", {"channel": "2"}), ("recording_stopped", {})):
        lost = cam.event_channels_happened("VideoLoss")
        modes = [cam.get_record_mode(channel) for channel in range(CHANNELS)]
        ours = gateway_readings(site, "nvr-ref")
    assert lost == [1]  # the API counts channels from 0
    offline = [n for n in range(1, CHANNELS + 1) if ours[f"camera.online/{n}"] == "offline"]
    assert offline == [c + 1 for c in lost]
    assert modes == ["Stop"] * CHANNELS
    assert all(ours[f"camera.recording/{n}"] == "not_recording" for n in range(1, CHANNELS + 1))
    after = gateway_readings(site, "nvr-ref")
    assert cam.get_record_mode(0) == "Automatic" and after["camera.recording/1"] == "recording"
    assert cam.event_channels_happened("VideoLoss") == [] and after["camera.online/2"] == "online"


async def test_amcrest_follows_the_attach_stream(nvr: tuple[SimFleet, int, Path]) -> None:
    """amcrest's asynchronous stream (httpx, digest). Its synchronous one stopped after
    the first event here, its connection closed under the second of the two readers it
    takes of one response."""
    sim, port, _ = nvr
    cam = camera(port)  # made in the loop: amcrest's async lock belongs to it
    got: list[tuple[str, dict[str, object]]] = []

    async def follow() -> None:
        async for event in cam.async_event_actions("VideoLoss,StorageFailure"):
            got.append(event)
            if len(got) == 2:
                return

    task = asyncio.create_task(follow())
    try:
        async with asyncio.timeout(15):
            # The stream opens with amcrest's first request: fault the channel until
            # amcrest has seen it go and come back.
            while not got:
                await asyncio.to_thread(
                    sim.client.inject, "nvr-ref", "camera_offline", {"channel": "3"}
                )
                await asyncio.to_thread(
                    sim.client.clear, "nvr-ref", "camera_offline", {"channel": "3"}
                )
                await asyncio.wait([task], timeout=0.5)
            await task
    finally:
        await stop_task(task)
        await asyncio.to_thread(sim.client.clear, "nvr-ref", None, {})
    assert [(code, payload["action"], payload["index"]) for code, payload in got] == [
        ("VideoLoss", "Start", "2"),
        ("VideoLoss", "Stop", "2"),
    ]
