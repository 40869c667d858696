"""A site whose devices of one family are polled on two paces: one device every
INTERVAL, one (``*-push``) once a minute, which only the events it pushes (AMI's
Registry, ISAPI's alertStream, Dahua's attach stream) make the gateway poll sooner. The
site file is the one `lvgw-sim run --write-config` wrote, set for the test; the gateway
runs on it with a broker and a service center of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.conftest import (
    INTERVAL,
    RULE_WAIT,
    ServiceCenter,
    service_center_on,
    status_of,
    write_test_profiles,
)
from tests.e2e.lvgw import lvgw_running
from tests.realservers import Mosquitto, running
from tests.simulators.conftest import SimFleet

PUSH_INTERVAL = 60.0  # the pushing device: only a pushed event can make it poll sooner
SLACK = 2.0
PUSH_BOUND = 5.0  # the pushed event's poll, after the rule's wait: before the window's end
PUSH_WINDOW = 10.0  # limits.trap_poll_every: one pushed poll per device per window
RAISE_BOUND = RULE_WAIT + 2 * INTERVAL + SLACK


def site_doc(sim: SimFleet, broker: Mosquitto, workdir: Path, pushing: str) -> dict[str, Any]:
    """The simulator's site file with the test's profiles, ``broker``, a state directory
    in ``workdir``, no status page, and the paces: ``pushing`` every PUSH_INTERVAL, every
    other device every INTERVAL."""
    doc: dict[str, Any] = yaml.safe_load((sim.workdir / "site.yaml").read_text())
    profiles = workdir / "profiles"
    write_test_profiles(profiles, datetime.now().astimezone())
    doc["uplink"]["mqtt"] = {"host": broker.host, "port": broker.port}
    doc["agent"] = {"state_dir": str(workdir / "state"), "profile_dirs": [str(profiles)],
                    "status_listen": None}  # fmt: skip
    for device in doc["devices"]:
        interval = PUSH_INTERVAL if device["id"] == pushing else INTERVAL
        device["interval"] = f"{interval:g}s"
    return doc


@asynccontextmanager
async def gateway_on(
    workdir: Path, site_id: str, site_file: Callable[[Mosquitto], Path], polled: str
) -> AsyncIterator[ServiceCenter]:
    """A broker, the service center and `lvgw run` (logging to ``workdir/gateway.log``)
    on the site file ``site_file`` writes for that broker, once ``polled`` was read."""
    broker = Mosquitto(workdir / "mosquitto")
    with running(broker):
        config = site_file(broker)
        async with (
            service_center_on(broker.port, site_id) as center,
            lvgw_running(config, workdir / "gateway.log"),
        ):
            # The pushing device's first scheduled poll may be a minute away: not waited for.
            await status_of(
                config,
                lambda s: all(d["reachable"] for d in s["devices"] if d["id"] == polled),
                20,
            )
            yield center
