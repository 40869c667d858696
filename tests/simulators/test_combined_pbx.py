"""One simulated PBX read over SNMP and AMI at once: the host's health (sysUpTime,
the ASTERISK-MIB version) over SNMP, its trunks over AMI (the profile's `ami:` section
still names the events that ask for a poll), one poll, one result; a trunk down shows
over AMI while SNMP reads on."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from gateway.config import load_config
from gateway.model import Value
from gateway.protocols.ami.events import AmiEvents
from gateway.protocols.combined import CombinedReader
from gateway.protocols.registry import Drivers
from tests.readings import by_key
from tests.simulators.conftest import SimFleet, free_port_on

pytestmark = pytest.mark.integration

HOST = "127.0.0.15"
SECRET = "combined-ami-secret"
PROFILE = """\
description: An Asterisk host's health over SNMP, its trunks over AMI
kinds: [pbx]
protocol: snmp
ami:
  poll_on: [Registry]
points:
  sys.uptime: {oid: 1.3.6.1.2.1.1.3.0, type: timeticks, unit: s, meaning: uptime}
  pbx.version: {oid: 1.3.6.1.4.1.22736.1.1.1.0, type: text}
  pbx.channels: {protocol: ami, action: CoreShowChannels, field: ListItems, type: int}
tables:
  trunk:
    protocol: ami
    instance: trunk
    sources:
      - {action: PJSIPShowRegistrationsOutbound, key: ObjectName}
    columns:
      status: {field: Status, type: int, codes: {Registered: 1, Rejected: 3}, states: {1: registered, 3: rejected}}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimFleet, Path]]:
    workdir = tmp_path_factory.mktemp("combined-pbx")
    snmp, ami = free_port_on(HOST), free_port_on(HOST, socket.SOCK_STREAM)
    fleet = (
        "site: {id: combined}\ndevices:\n"
        f"  - {{id: pbx-both, kind: pbx, address: {HOST}, port: {snmp}, trunks: 2,"
        f" ami: {{port: {ami}, secret: {SECRET}}}}}\n"
    )
    sim = SimFleet(workdir, fleet, [])
    sim.start(timeout=20)
    (workdir / "profiles").mkdir()
    (workdir / "profiles" / "pbx-snmp-ami.yaml").write_text(PROFILE)
    (workdir / "secret").write_text(SECRET + "\n")
    doc = {
        "site": {"id": "combined", "name": "C", "customer": {"name": "C"},
                 "contract": {"type": "annual"}},
        "uplink": {"mqtt": {"host": "127.0.0.1"}},
        "devices": [
            {"id": "pbx-both", "kind": "pbx", "profile": "pbx-snmp-ami", "address": HOST,
             "port": snmp, "ports": {"ami": ami}, "snmp": {"community": "public"},
             "ami": {"username": "lvgw", "secret_file": "secret", "timeout": "2s"}},
        ],
        "agent": {"profile_dirs": [str(workdir / "profiles")]},
    }  # fmt: skip
    (workdir / "site.yaml").write_text(yaml.safe_dump(doc))
    try:
        yield sim, workdir / "site.yaml"
    finally:
        sim.stop()


def test_snmp_and_ami_in_one_poll(site: tuple[SimFleet, Path]) -> None:
    sim, path = site

    async def poll() -> tuple[dict[str, Value], bool]:
        config = load_config(path)
        async with Drivers(config) as drivers:
            reader = drivers.reader(config.device("pbx-both"))
            assert isinstance(reader, CombinedReader)
            result = await reader.poll()
            assert result.reachable, result.error
            sources = drivers.push_sources()
            pushes = any(isinstance(s, AmiEvents) and "pbx-both" in s.poll_on for s in sources)
        got = by_key(result.readings)
        return got, pushes

    with sim.faulted("pbx-both", ("trunk_down", {"trunk": "1"})):
        got, pushes = asyncio.run(poll())
    assert got["pbx.version"] == "18.10.0" and isinstance(got["sys.uptime"], float)
    assert got["access"] == "ok" and isinstance(got["pbx.channels"], int)
    assert (got["trunk.status/sip-trunk-1"], got["trunk.status/sip-trunk-2"]) == (
        "rejected", "registered")  # fmt: skip
    assert pushes  # the AMI session's events still ask for a poll of this device
