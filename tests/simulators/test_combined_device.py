"""One simulated NVR read over SNMP and ISAPI at once: its system health (uptime, the
HIKVISION-MIB disks) over SNMP, its cameras over ISAPI, one poll, one result; a fault
shows in the protocol that carries it, and the device stays reachable when one of
its protocols refuses the gateway."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from gateway.config import load_config
from gateway.model import Value
from gateway.poller.result import PollResult
from gateway.protocols.combined import CombinedReader
from gateway.protocols.registry import Drivers
from tests.readings import by_key
from tests.simulators.conftest import SimFleet, free_port_on

pytestmark = pytest.mark.integration

HOST = "127.0.0.14"
PASSWORD = "combined-isapi-pw"
PROFILE = """\
description: A Hikvision recorder's system health over SNMP, its cameras over ISAPI
kinds: [nvr]
protocol: snmp
points:
  sys.uptime: {oid: 1.3.6.1.2.1.1.3.0, type: timeticks, unit: s, meaning: uptime}
  sys.name: {oid: 1.3.6.1.2.1.1.5.0, type: text}
  nvr.model: {protocol: isapi, path: /ISAPI/System/deviceInfo, field: model, type: text}
tables:
  disk:
    instance: disk
    columns:
      status:
        oid: 1.3.6.1.4.1.50001.1.241.1.3
        type: int
        states: {0: normal, 2: abnormal}
  camera:
    protocol: isapi
    instance: channel
    path: /ISAPI/ContentMgmt/InputProxy/channels/status
    row: InputProxyChannelStatus
    key: id
    columns:
      online: {field: online, type: int, codes: {"true": 1, "false": 2}, states: {1: online, 2: offline}}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimFleet, Path]]:
    workdir = tmp_path_factory.mktemp("combined")
    snmp, http = free_port_on(HOST), free_port_on(HOST, socket.SOCK_STREAM)
    fleet = (
        "site: {id: combined}\ndevices:\n"
        f"  - {{id: nvr-both, kind: nvr, address: {HOST}, port: {snmp}, disks: 2, cameras: 4,"
        f" isapi: {{port: {http}, user: lvgw, password: {PASSWORD}}}}}\n"
    )
    sim = SimFleet(workdir, fleet, [])
    sim.start(timeout=20)
    (workdir / "profiles").mkdir()
    (workdir / "profiles" / "nvr-snmp-isapi.yaml").write_text(PROFILE)
    (workdir / "pw").write_text(PASSWORD + "\n")
    (workdir / "wrong").write_text("not-the-password\n")
    doc = {
        "site": {"id": "combined", "name": "C", "customer": {"name": "C"},
                 "contract": {"type": "annual"}},
        "uplink": {"mqtt": {"host": "127.0.0.1"}},
        "devices": [
            {"id": "nvr-both", "kind": "nvr", "profile": "nvr-snmp-isapi", "address": HOST,
             "port": snmp, "ports": {"isapi": http}, "snmp": {"community": "public"},
             "isapi": {"user": "lvgw", "password_file": "pw", "timeout": "2s"}},
        ],
    }  # fmt: skip
    (workdir / "site.yaml").write_text(yaml.safe_dump(doc))
    doc["devices"][0]["isapi"]["password_file"] = "wrong"  # type: ignore[index]
    (workdir / "refused.yaml").write_text(yaml.safe_dump(doc))
    try:
        yield sim, workdir
    finally:
        sim.stop()


def poll(path: Path) -> PollResult:
    async def once() -> PollResult:
        config = load_config(path)
        async with Drivers(config) as drivers:
            reader = drivers.reader(config.device("nvr-both"))
            assert isinstance(reader, CombinedReader)
            return await reader.poll()

    return asyncio.run(once())


def values(result: PollResult) -> dict[str, Value]:
    return by_key(result.readings)


def test_one_poll_reads_both_protocols_and_each_fault_where_it_shows(
    site: tuple[SimFleet, Path],
) -> None:
    sim, workdir = site
    with sim.faulted(
        "nvr-both",
        ("camera_offline", {"channel": "2"}),
        ("disk_failed", {"disk": "1", "status": "2"}),
    ):
        result = poll(workdir / "site.yaml")
    got = values(result)
    assert result.reachable and not result.error, result.error
    assert isinstance(got["sys.uptime"], float) and got["sys.name"] == "nvr-both"  # SNMP
    assert (got["disk.status/1"], got["disk.status/2"]) == ("abnormal", "normal")  # SNMP
    assert got["nvr.model"] == "DS-7716NI-K4" and got["access"] == "ok"  # ISAPI
    assert [got[f"camera.online/{n}"] for n in range(1, 5)] == [
        "online", "offline", "online", "online"
    ]  # fmt: skip
    assert [r.point for r in result.readings].count("reachable") == 1


def test_a_protocol_that_refuses_loses_only_its_points(site: tuple[SimFleet, Path]) -> None:
    _, workdir = site
    result = poll(workdir / "refused.yaml")
    got = values(result)
    assert result.reachable  # SNMP answers
    assert got["access"] == "auth_failed" and "camera.online/1" not in got
    assert got["sys.name"] == "nvr-both" and "disk.status/1" in got
    assert result.error.startswith("isapi: auth failed")
