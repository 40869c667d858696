"""End to end over AMI: simulated PBXs serving the Asterisk Manager Interface, a real
`lvgw run` reading them with the pbx-asterisk-ami profile, real mosquitto, the service
center's tickets.

- ``pbx-push`` is polled once a minute: a trunk's lost registration reaches the
  gateway as a pushed ``Registry`` event, which polls at once, so ``trunk.down`` opens
  within the rule's wait and 2 s, long before the next scheduled poll;
- ``pbx-poll`` is polled every INTERVAL: a restart drops its manager session, which is
  opened again once (no retry storm) and ``device.rebooted`` opens at the profile's
  level, whether a poll saw the session lost first (a missed poll) or not;
- ``pbx-bad`` refuses the gateway's secret and ``pbx-tls`` presents a certificate the
  gateway does not trust: each is ``device.auth_failed`` (level 2), logged once,
  tried again no sooner than the backoff allows.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.delivery.certs import CertAuthority
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

pytestmark = pytest.mark.e2e

HOST = "127.0.0.10"
FLEET = """
site: {{id: ami-site, name: AMI end to end}}
devices:
  - {{id: pbx-push, kind: pbx, address: {host}, port: {snmp1}, trunks: 2,
     ami: {{port: {ami1}, secret: "push-ami-secret"}}}}
  - {{id: pbx-poll, kind: pbx, address: {host}, port: {snmp2}, trunks: 2,
     ami: {{port: {ami2}, secret: "poll-ami-secret"}}}}
  - {{id: pbx-bad, kind: pbx, address: {host}, port: {snmp3}, trunks: 2,
     ami: {{port: {ami3}, secret: "the-right-secret"}}}}
  - {{id: pbx-tls, kind: pbx, address: {host}, port: {snmp4}, trunks: 2,
     ami: {{port: {ami4}, secret: "tls-ami-secret", tls: {{cert: "{cert}", key: "{key}"}}}}}}
"""


@dataclass
class AmiSite:
    sim: SimFleet
    center: ServiceCenter
    log: Path

    def open_on(self, device: str) -> list[dict[str, Any]]:
        return [e for e in self.center.open_tickets().values() if e["device"]["id"] == device]

    def ami(self, device: str) -> dict[str, int]:
        entry = next(d for d in self.sim.client.devices() if d["id"] == device)
        return dict(entry["ami"])


@pytest.fixture(scope="module")
def ami_fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimFleet, Path]]:
    workdir = tmp_path_factory.mktemp("ami-fleet")
    server = CertAuthority(workdir / "pbx-ca").issue("pbx-tls", server=True)
    ports = {f"snmp{n}": free_port_on(HOST) for n in range(1, 5)}
    ports |= {f"ami{n}": free_port_on(HOST, socket.SOCK_STREAM) for n in range(1, 5)}
    text = FLEET.format(host=HOST, cert=server.cert, key=server.key, **ports)
    with fleet_with_site(workdir, text) as (sim, _):
        yield sim, CertAuthority(workdir / "other-ca").ca.cert  # a CA that signed nothing


def site_file(sim: SimFleet, other_ca: Path, broker: Mosquitto, workdir: Path) -> Path:
    doc = site_doc(sim, broker, workdir, "pbx-push")
    for device in doc["devices"]:
        assert device["profile"] == "pbx-asterisk-ami", device
        device["ami"]["timeout"] = "0.8s"
        if device["id"] == "pbx-bad":  # the site was given a secret the PBX does not have
            Path(device["ami"]["secret_file"]).write_text("a-wrong-secret\n")
        if device["id"] == "pbx-tls":
            assert device["ami"]["tls"] is True
            device["ami"]["ca_file"] = str(other_ca)
    path = workdir / "site.test.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture(scope="module")
async def ami_site(
    tmp_path_factory: pytest.TempPathFactory, ami_fleet: tuple[SimFleet, Path]
) -> AsyncIterator[AmiSite]:
    sim, other_ca = ami_fleet
    workdir = tmp_path_factory.mktemp("ami-site")

    def site(broker: Mosquitto) -> Path:
        return site_file(sim, other_ca, broker, workdir)

    async with gateway_on(workdir, "ami-site", site, polled="pbx-poll") as center:
        yield AmiSite(sim, center, workdir / "gateway.log")


async def test_a_trunk_event_opens_trunk_down_within_two_seconds(ami_site: AmiSite) -> None:
    center = ami_site.center
    async with center.listening():
        # pbx-push is read once at start (its first poll), so the gateway knows its trunks.
        await center.wait_for(lambda: ami_site.ami("pbx-push")["logins"] >= 1, 70)
        await center.wait_for(lambda: not ami_site.open_on("pbx-push"), 30)
        events = center.from_now("pbx-push")
        started = time.monotonic()
        await asyncio.to_thread(
            ami_site.sim.client.inject, "pbx-push", "trunk_down", {"trunk": "1"}
        )
        await center.expect(events, RULE_WAIT + PUSH_BOUND + SLACK, "trunk.down", events)
        took = time.monotonic() - started
        opened = events()[0]
        assert (opened["event"], opened["fault"]["code"], opened["severity"]) == (
            "open", "trunk.down", 3  # one of the site's four trunks read: fewer than half
        ), events()  # fmt: skip
        assert took <= RULE_WAIT + PUSH_BOUND, f"opened {took:.1f} s after the event"

        # Registered again: the Registry event asks for a poll, at the end of the window
        # that bounds pushed polls (limits.trap_poll_every, 10 s).
        await asyncio.to_thread(ami_site.sim.client.clear, "pbx-push", "trunk_down", {"trunk": "1"})
        await center.expect(
            lambda: events()[-1]["event"] == "resolve",
            PUSH_WINDOW + RULE_WAIT + SLACK,
            "resolve",
            events,
        )
        assert time.monotonic() - started < PUSH_INTERVAL, "resolved by a scheduled poll"
        for event in events():
            validate(event)


async def test_a_restart_is_device_rebooted_and_one_new_session(ami_site: AmiSite) -> None:
    center = ami_site.center
    async with center.listening():
        await center.wait_for(lambda: not ami_site.open_on("pbx-poll"), 30)
        events = center.from_now("pbx-poll")
        logins = ami_site.ami("pbx-poll")["logins"]
        await asyncio.to_thread(ami_site.sim.client.inject, "pbx-poll", "restart", {})
        await center.expect(events, RAISE_BOUND, "device.rebooted", events)
        opened = events()[0]
        assert (opened["event"], opened["fault"]["code"], opened["severity"]) == (
            "open", "device.rebooted", 3), events()  # fmt: skip
        await center.expect(
            lambda: events()[-1]["event"] == "resolve", RULE_WAIT + 3 * INTERVAL + SLACK,
            "resolve", events,
        )  # fmt: skip
        assert {e["fault"]["code"] for e in events()} == {"device.rebooted"}, events()
        assert ami_site.ami("pbx-poll")["logins"] == logins + 1  # one new session, no storm


@pytest.mark.parametrize(
    ("device", "access", "word"),
    [("pbx-bad", "auth_failed", "auth failed"), ("pbx-tls", "tls_failed", "tls failed")],
)
async def test_refused_access_is_one_ticket_and_no_retry_storm(
    ami_site: AmiSite, device: str, access: str, word: str
) -> None:
    center = ami_site.center
    async with center.listening():

        def events() -> list[dict[str, Any]]:
            return center.events(device)

        await center.expect(events, RULE_WAIT + 10 * INTERVAL + SLACK, "device.auth_failed", events)
        opened = events()[0]
        assert (opened["fault"]["code"], opened["severity"]) == ("device.auth_failed", 2)
        # The title names the refusal as the device page words it (docs/profiles.md).
        assert opened["title"].endswith(f"({word})"), opened["title"]
        await asyncio.sleep(5 * INTERVAL)  # five more polls: none may log in again
    log = ami_site.log.read_text(errors="replace")
    kind = "auth failed" if access == "auth_failed" else "TLS error"
    assert log.count(f"device={device} {kind}") == 1, log[-3000:]  # logged once
    if device == "pbx-bad":
        # Asterisk logs every refused login: one in the first minute, whatever the polls.
        assert ami_site.ami(device) == {"logins": 0, "logins_failed": 1}
    assert "the-right-secret" not in log and "a-wrong-secret" not in log
    assert "Traceback" not in log, log[-3000:]
