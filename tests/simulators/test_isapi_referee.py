"""A referee no one here wrote: pyhik (the client of Home Assistant's Hikvision
integration) reads the simulated NVR's ISAPI as it reads a recorder (device info over
digest auth, the HDD list, the alertStream's events), and what it reads matches what
the gateway's reader reads from the same simulator."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyhik.hikvision import HikCamera
from pyhik.isapi import ISAPIClient

from tests.realservers import wait_until
from tests.simulators.conftest import SimFleet, fleet_with_site, free_port_on, gateway_readings

pytestmark = pytest.mark.real

HOST = "127.0.0.8"
PASSWORD = "referee-pw"


@pytest.fixture(scope="module")
def nvr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimFleet, int, Path]]:
    workdir = tmp_path_factory.mktemp("isapi-referee")
    http = free_port_on(HOST, socket.SOCK_STREAM)
    fleet = (
        "site: {id: referee}\ndevices:\n"
        f"  - {{id: nvr-ref, kind: nvr, address: {HOST}, port: {free_port_on(HOST)},"
        f" disks: 2, cameras: 4, isapi: {{port: {http}, password: {PASSWORD}}}}}\n"
    )
    with fleet_with_site(workdir, fleet) as (sim, site):
        yield sim, http, site


def test_pyhik_reads_device_info_and_disks_as_the_gateway_does(
    nvr: tuple[SimFleet, int, Path],
) -> None:
    sim, port, site = nvr
    with sim.faulted("nvr-ref", ("disk_failed", {"disk": "2", "status": "2"})):
        client = ISAPIClient(HOST, port, "admin", PASSWORD)
        info = client.get_device_info()
        disks = client.get_storage_devices()
        ours = gateway_readings(site, "nvr-ref")
    assert info["deviceName"] == ours["sys.name"] == "nvr-ref"
    assert info["model"] == ours["nvr.model"]
    assert [(d.id, d.status) for d in disks] == [("1", "ok"), ("2", "error")]
    assert (ours["disk.status/1"], ours["disk.status/2"]) == ("normal", "abnormal")
    for disk in disks:
        assert disk.capacity == ours[f"disk.capacity/{disk.id}"] * 1024 * 1024  # type: ignore[operator]


def test_pyhik_follows_the_alert_stream(
    nvr: tuple[SimFleet, int, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """pyhik connects to the alertStream over digest auth and parses its parts (its
    own event states track only channel events it found in /ISAPI/Event/triggers;
    the simulator's disk alerts name no channel, so they are parsed, not tracked)."""
    sim, port, _ = nvr
    camera = HikCamera(f"http://{HOST}", port, "admin", PASSWORD)
    assert camera.get_name == "nvr-ref"  # deviceInfo over digest authentication
    assert "Disk Error" in camera.current_event_states  # from /ISAPI/Event/triggers
    with caplog.at_level(logging.DEBUG, logger="pyhik"):
        camera.start_stream()
        try:
            wait_until(lambda: camera.stream_connected, 10, "pyhik connected to the alertStream")
            sim.client.inject("nvr-ref", "camera_offline", {"channel": "2"})
            sim.client.inject("nvr-ref", "disk_failed", {"disk": "1"})
            time.sleep(1.0)
            assert camera.stream_connected
        finally:
            sim.client.clear("nvr-ref", None, {})
            camera.disconnect()
    assert "XML parse error" not in caplog.text
    assert "Connection Failed" not in caplog.text
