"""A referee no one here wrote: panoramisk (an asyncio AMI client) logs in to the
simulated PBX that `lvgw-sim run --write-config` serves, and what it reads matches the
readings of the gateway's AMI reader, polling the same PBX through the site file the
simulator wrote (its pbx-asterisk-ami device and secret file)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from panoramisk import Manager

from gateway.config import load_config
from gateway.protocols.registry import Drivers
from tests.readings import by_key
from tests.simulators.conftest import SimFleet, fleet_with_site, free_port_on

pytestmark = pytest.mark.integration

HOST = "127.0.0.9"
SECRET = "referee-ami-secret"


@pytest.fixture(scope="module")
def pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimFleet, int, Path]]:
    workdir = tmp_path_factory.mktemp("ami-referee")
    ami = free_port_on(HOST, socket.SOCK_STREAM)
    fleet = (
        "site: {id: referee, timezone: Asia/Shanghai}\ndevices:\n"
        f"  - {{id: pbx-ref, kind: pbx, address: {HOST}, port: {free_port_on(HOST)},"
        f" trunks: 3, ami: {{port: {ami}, secret: {SECRET}}}}}\n"
    )
    with fleet_with_site(workdir, fleet) as (sim, site):
        yield sim, ami, site


async def gateway_readings(site: Path) -> dict[str, Any]:
    config = load_config(site)
    async with Drivers(config) as drivers:
        result = await drivers.reader(config.device("pbx-ref")).poll()
    assert result.reachable, result.error
    return by_key(result.readings)


async def referee_reads(port: int) -> dict[str, Any]:
    manager = Manager(
        host=HOST, port=port, username="lvgw", secret=SECRET, ping_delay=3600,
        loop=asyncio.get_running_loop(),
    )  # fmt: skip
    await manager.connect()
    try:
        return {
            action: await manager.send_action({"Action": action})
            for action in ("CoreStatus", "PJSIPShowRegistrationsOutbound", "Ping")
        }
    finally:
        manager.close()


async def test_panoramisk_reads_the_trunks_and_times_the_gateway_reads(
    pbx: tuple[SimFleet, int, Path],
) -> None:
    sim, port, site = pbx
    with sim.faulted("pbx-ref", ("trunk_down", {"trunk": "2"})):
        seen = await referee_reads(port)
        ours = await gateway_readings(site)
    registrations = {
        m["ObjectName"]: m["Status"]
        for m in seen["PJSIPShowRegistrationsOutbound"]
        if m.get("Event") == "OutboundRegistrationDetail"
    }
    assert registrations == {"sip-trunk-1": "Registered", "sip-trunk-2": "Rejected",
                             "sip-trunk-3": "Registered"}  # fmt: skip
    assert {k.split("/")[1]: v for k, v in ours.items() if k.startswith("trunk.status/")} == {
        "sip-trunk-1": "registered", "sip-trunk-2": "rejected", "sip-trunk-3": "registered"}  # fmt: skip
    # The start time panoramisk reads, in the site's zone, is the one the gateway's
    # uptime counts from (within the second the two reads are apart).
    core = seen["CoreStatus"]
    started = datetime.fromisoformat(
        f"{core['CoreStartupDate']}T{core['CoreStartupTime']}+08:00"
    ).timestamp()
    assert abs(datetime.now().timestamp() - started - ours["pbx.uptime"]) < 3
    assert abs(float(seen["Ping"]["Timestamp"]) - ours["sys.date"]) < 3
