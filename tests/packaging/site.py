"""A one-switch site for a gateway run as a user would start it: the switch served by
`lvgw-sim`, the broker real mosquitto, the site file the simulator writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiomqtt
import yaml

from tests.realservers import Mosquitto
from tests.simulators.conftest import SimFleet, free_port_on

SITE_ID = "pkg-site"


@contextmanager
def one_switch_site(workdir: Path, broker: Mosquitto) -> Iterator[Path]:
    """The site file of a simulated switch, its uplink pointed at ``broker``, its state
    in ``workdir``, no status page; the switch served while inside."""
    port = free_port_on("127.0.0.1")
    fleet = (
        f"site: {{id: {SITE_ID}, name: Packaging test site, zone: urban}}\n"
        f"devices:\n  - {{id: sw, kind: switch, address: 127.0.0.1, port: {port}, ports: 8}}\n"
    )
    written = workdir / "written.yaml"
    sim = SimFleet(workdir / "sim", fleet, ["--write-config", str(written)])
    sim.start(timeout=20)
    try:
        site = yaml.safe_load(written.read_text())
        site["uplink"]["mqtt"] = {"host": broker.host, "port": broker.port}
        site["agent"] = {"state_dir": str(workdir / "state"), "status_listen": None}
        path = workdir / "site.yaml"
        path.write_text(yaml.safe_dump(site, sort_keys=False))
        yield path
    finally:
        sim.stop()


async def next_status(client: aiomqtt.Client) -> dict[str, Any]:
    """The next message on the site's status topic (subscribe first)."""
    async for message in client.messages:
        status: dict[str, Any] = json.loads(bytes(message.payload))
        return status
    raise AssertionError("the broker closed the subscription")


def status_topic() -> str:
    return f"lvgw/v1/{SITE_ID}/status"
