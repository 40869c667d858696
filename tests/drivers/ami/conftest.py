"""A simulated PBX's manager interface in the test's event loop (the simulator's own
AMI server, written from Asterisk's documents apart from the driver), on a free port."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from simulators.ami.server import AmiServers, PbxManager, ami_servers
from simulators.fleet import load_fleet
from simulators.models import build_model
from simulators.models.pbx import PbxModel

SECRET = "amp111-test"


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SimPbx:
    model: PbxModel
    manager: PbxManager
    servers: AmiServers
    port: int


async def start_pbx(tmp: Path, **ami: object) -> SimPbx:
    """One PBX with two trunks serving AMI with ``ami`` (the fleet's ami: section)."""
    port = free_tcp_port()
    account = {"port": port, "secret": SECRET, **ami}
    fleet = {
        "site": {"id": "ami-test"},
        "devices": [{"id": "pbx", "kind": "pbx", "address": "127.0.0.1",
                     "port": free_tcp_port(), "trunks": 2, "ami": account}],
    }  # fmt: skip
    path = tmp / "fleet.yaml"
    path.write_text(yaml.safe_dump(fleet))
    loaded = load_fleet(path)
    model = build_model(loaded.devices[0], time.monotonic)
    assert isinstance(model, PbxModel)
    servers = ami_servers(loaded, {"pbx": model})
    await servers.start()
    return SimPbx(model, servers.served[0].manager, servers, port)


@pytest.fixture
async def pbx(tmp_path: Path) -> AsyncIterator[SimPbx]:
    sim = await start_pbx(tmp_path)
    try:
        yield sim
    finally:
        await sim.servers.stop()
