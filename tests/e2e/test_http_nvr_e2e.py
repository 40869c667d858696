"""End to end over the NVRs' HTTP APIs, Hikvision ISAPI and the Dahua HTTP API, each
in turn: the simulated NVRs served over HTTP with digest authentication, a real `lvgw
run` reading them with the nvr-hikvision-isapi or nvr-dahua-http profile, real
mosquitto, the service center's tickets.

``nvr-poll`` is polled every INTERVAL: each fault opens its ticket at the profile's
level within the rule's wait and a poll or two, and clearing it resolves the ticket.
``nvr-push`` is polled once a minute: a camera's video loss reaches the gateway on
the event stream (ISAPI's alertStream, Dahua's eventManager attach), which polls at
once, so its ticket opens within the rule's wait and 2 s, long before the next
scheduled poll.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import (
    INTERVAL,
    RULE_WAIT,
    ServiceCenter,
    validate,
)
from tests.e2e.push_site import (
    PUSH_BOUND,
    PUSH_INTERVAL,
    PUSH_WINDOW,
    RAISE_BOUND,
    SLACK,
    gateway_on,
    site_doc,
)
from tests.realservers import Mosquitto
from tests.simulators.conftest import SimFleet, fleet_with_site, free_port_on

pytestmark = pytest.mark.real

# API -> (its profile, the loopback address its fleet is served on)
APIS = {"isapi": ("nvr-hikvision-isapi", "127.0.0.7"), "dahua": ("nvr-dahua-http", "127.0.0.12")}
RESOLVE_BOUND = RULE_WAIT + 3 * INTERVAL + SLACK

FLEET = """
site: {{id: {api}-site, name: {api} end to end, timezone: Asia/Shanghai}}
devices:
  - {{id: nvr-poll, kind: nvr, address: {host}, port: {snmp1}, disks: 2, cameras: 8,
     {api}: {{port: {http1}, user: lvgw, password: "poll-{api}-pw"}}}}
  - {{id: nvr-push, kind: nvr, address: {host}, port: {snmp2}, disks: 2, cameras: 8,
     {api}: {{port: {http2}, user: lvgw, password: "push-{api}-pw"}}}}
"""


@dataclass
class NvrSite:
    sim: SimFleet
    center: ServiceCenter
    log: Path


@pytest.fixture(scope="module", params=sorted(APIS))
def api(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def nvr_fleet(tmp_path_factory: pytest.TempPathFactory, api: str) -> Iterator[SimFleet]:
    workdir = tmp_path_factory.mktemp(f"{api}-fleet")
    host = APIS[api][1]
    text = FLEET.format(
        api=api,
        host=host,
        snmp1=free_port_on(host),
        snmp2=free_port_on(host),
        http1=free_port_on(host, socket.SOCK_STREAM),
        http2=free_port_on(host, socket.SOCK_STREAM),
    )
    with fleet_with_site(workdir, text) as (sim, _):
        yield sim


def site_file(sim: SimFleet, broker: Mosquitto, workdir: Path, api: str) -> Path:
    doc = site_doc(sim, broker, workdir, "nvr-push")
    for device in doc["devices"]:
        assert device["profile"] == APIS[api][0], device
        device[api]["timeout"] = "0.8s"
    path = workdir / "site.test.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture(scope="module")
async def nvr_site(
    tmp_path_factory: pytest.TempPathFactory, nvr_fleet: SimFleet, api: str
) -> AsyncIterator[NvrSite]:
    workdir = tmp_path_factory.mktemp(f"{api}-site")

    def site(broker: Mosquitto) -> Path:
        return site_file(nvr_fleet, broker, workdir, api)

    async with gateway_on(workdir, f"{api}-site", site, polled="nvr-poll") as center:
        yield NvrSite(nvr_fleet, center, workdir / "gateway.log")


@pytest.mark.parametrize(
    ("fault", "params", "code", "level", "wait"),
    [
        ("camera_offline", {"channel": "3"}, "camera.offline", 3, RULE_WAIT),
        ("recording_stopped", {}, "nvr.not_recording", 1, RULE_WAIT),
        ("disk_failed", {"disk": "2", "status": "2"}, "disk.failed", 2, 0.0),  # no `for`
    ],
    ids=["camera_offline", "recording_stopped", "disk_failed"],
)
async def test_a_fault_read_over_the_api_opens_and_resolves(
    nvr_site: NvrSite, fault: str, params: dict[str, str], code: str, level: int, wait: float
) -> None:
    center = nvr_site.center
    async with center.listening():
        await center.wait_for(lambda: not center.open_tickets(), 30)
        events = center.from_now("nvr-poll")
        started = time.monotonic()
        await asyncio.to_thread(nvr_site.sim.client.inject, "nvr-poll", fault, params)
        await center.expect(events, RAISE_BOUND, f"{code} ticket", events)
        took = time.monotonic() - started
        opened = events()[0]
        assert (opened["event"], opened["fault"]["code"], opened["severity"]) == (
            "open", code, level
        ), events()  # fmt: skip
        assert took >= wait, f"opened after {took:.1f} s, before the rule's wait"

        await asyncio.to_thread(nvr_site.sim.client.clear, "nvr-poll", fault, params)
        await center.expect(
            lambda: events()[-1]["event"] == "resolve", RESOLVE_BOUND, "resolve", events
        )
        assert {e["fault"]["code"] for e in events()} == {code}, events()
        for event in events():
            validate(event)


async def test_video_loss_on_the_event_stream_opens_the_ticket_before_the_next_poll(
    nvr_site: NvrSite,
) -> None:
    center = nvr_site.center
    async with center.listening():
        await center.wait_for(lambda: not center.open_tickets(), 30)
        events = center.from_now("nvr-push")
        started = time.monotonic()
        await asyncio.to_thread(
            nvr_site.sim.client.inject, "nvr-push", "camera_offline", {"channel": "5"}
        )
        await center.expect(events, RULE_WAIT + PUSH_BOUND + SLACK, "camera.offline", events)
        opened = events()[0]
        assert (opened["fault"]["code"], opened["severity"]) == ("camera.offline", 3)
        took = time.monotonic() - started
        assert took <= RULE_WAIT + PUSH_BOUND, f"opened {took:.1f} s after the video loss"

        # Video back: the stream says so (ISAPI "inactive", Dahua "Stop"); the poll it
        # asks for comes at the end of the window that bounds pushed polls
        # (limits.trap_poll_every, 10 s).
        await asyncio.to_thread(
            nvr_site.sim.client.clear, "nvr-push", "camera_offline", {"channel": "5"}
        )
        await center.expect(
            lambda: events()[-1]["event"] == "resolve",
            PUSH_WINDOW + RULE_WAIT + SLACK,
            "resolve",
            events,
        )
        assert time.monotonic() - started < PUSH_INTERVAL, "resolved by a scheduled poll"
