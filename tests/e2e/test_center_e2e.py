"""lvgw-center end to end, every part real and run as a user runs it: a simulated site
(`lvgw-sim run`, one switch) -> the gateway (`lvgw run`, with a command key) ->
mosquitto -> `lvgw-center run` (SQLite ledger) -> a webhook receiver that checks the
signature. A fault opens one ticket, clearing resolves it; `lvgw-center ack`, signed
with the site's command key, and an arrival through the HTTP callback reach the
gateway and its later events carry them; the same event published twice and a
ticket's events out of order reach the receiver once and in order."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import aiomqtt
import pytest
import yaml
from aiohttp import web

from center.adapters.webhook import signature
from tests.center.events import ticket_event
from tests.e2e.conftest import validate
from tests.httpreceiver import serving, signed
from tests.realservers import Mosquitto, free_port, wait_until
from tests.simulators.conftest import SimFleet, fleet_with_site, free_port_on

pytestmark = pytest.mark.e2e
SITE = "site-c2e"
HOOK_KEY = b"helpdesk hook secret"
COMMAND_KEY = b"site-c2e command key, 32 bytes.."
FLEET = """
defaults: {snmp: {community: public}, interval: 1s}
site: {id: %s, name: Center end-to-end site}
devices:
  - {id: sw-core, kind: switch, role: core, address: 127.0.0.1, port: %d, ports: 4, poe: false}
"""


class Receiver:
    """The helpdesk's webhook: checks the signature, keeps each body in arrival order."""

    def __init__(self) -> None:
        self.url = ""
        self.events: list[dict[str, Any]] = []
        self.bodies: list[bytes] = []
        self.bad: list[str] = []
        self.arrived = asyncio.Event()

    async def hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not signed(HOOK_KEY, body, request.headers.get("X-Lvgw-Signature")):
            self.bad.append(request.headers.get("X-Lvgw-Signature", "(none)"))
            return web.Response(status=401)
        event = json.loads(body)
        assert request.headers["X-Lvgw-Event-Id"] == event["event_id"]
        self.events.append(event)
        self.bodies.append(body)
        self.arrived.set()
        return web.Response(status=204)

    async def wait_for(self, what: str, predicate: Any, timeout: float = 30) -> None:
        try:
            async with asyncio.timeout(timeout):
                while not predicate():
                    self.arrived.clear()
                    await self.arrived.wait()
        except TimeoutError:
            pytest.fail(f"no {what} at the webhook within {timeout} s: {self.summary()}")

    def of(self, ticket_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["ticket_id"] == ticket_id]

    def summary(self) -> list[tuple[str, int, str]]:
        return [(e["ticket_id"], e["seq"], e["event"]) for e in self.events]


@asynccontextmanager
async def receiving_hook() -> AsyncIterator[Receiver]:
    """The helpdesk's webhook, at ``receiver.url``."""
    receiver = Receiver()
    async with serving(receiver.hook, "/hook") as url:
        receiver.url = f"{url}/hook"
        yield receiver


def secret(path: Path, value: bytes) -> Path:
    path.write_bytes(value + b"\n")
    path.chmod(0o600)
    return path


def site_file(written: Path, broker: Mosquitto, state: Path, key: Path) -> Path:
    doc = yaml.safe_load(written.read_text())
    doc["uplink"]["mqtt"] = {"host": broker.host, "port": broker.port}
    doc["uplink"]["command_key_file"] = str(key)
    doc["agent"] = {"state_dir": str(state), "status_listen": None}
    doc.pop("traps", None)
    for device in doc["devices"]:
        device["interval"] = "0.5s"
        device["snmp"].update({"timeout": "0.3s", "retries": 0})
    path = written.with_name("site.test.yaml")
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def center_yaml(tmp: Path, broker: Mosquitto, hook_url: str, key: Path, web_port: int) -> Path:
    secret(tmp / "hook.secret", HOOK_KEY)
    path = tmp / "center.yaml"
    path.write_text(
        f"broker: {{host: {broker.host}, port: {broker.port}, client_id: center-e2e}}\n"
        f"database: sqlite:///{tmp}/center.db\n"
        f"sites: [{{id: {SITE}, command_key_file: {key}}}]\n"
        f"adapters: [{{type: webhook, url: '{hook_url}',"
        " secret_file: hook.secret, backoff_initial: 0.2s, backoff_max: 1s}]\n"
        f"web: {{listen: '127.0.0.1:{web_port}'}}\n"
    )
    return path


def start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", *args], stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip


def stop(proc: subprocess.Popen[bytes], log: Path) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        raise
    assert code == 0, f"{proc.args!r} exited with {code}:\n{log.read_text(errors='replace')}"


@asynccontextmanager
async def center_and_gateway(
    center_config: Path, site_config: Path, logs: Path
) -> AsyncIterator[None]:
    """`lvgw-center run`, and once it has subscribed, the site's `lvgw run`; at the end
    both are stopped and must exit 0. Their output: ``logs``/center.log, gateway.log."""
    center_log, gateway_log = logs / "center.log", logs / "gateway.log"
    center = start(["center", "run", "-c", str(center_config)], center_log)
    gateway = None
    try:
        await asyncio.to_thread(
            wait_until, lambda: "subscribed to" in center_log.read_text(), 20, "lvgw-center"
        )
        gateway = start(["gateway", "run", "-c", str(site_config)], gateway_log)
        yield
    finally:
        if gateway is not None:
            stop(gateway, gateway_log)
        stop(center, center_log)


async def center_cli(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "center", *args,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[SimFleet]:
    workdir = tmp_path / "fleet"
    text = FLEET % (SITE, free_port_on("127.0.0.1"))
    with fleet_with_site(workdir, text) as (sim, _):
        yield sim


async def test_a_fault_through_the_center_to_the_helpdesk_and_the_ack_back(
    tmp_path: Path, mosquitto: Mosquitto, fleet: SimFleet
) -> None:
    key = secret(tmp_path / "command.key", COMMAND_KEY)
    config = site_file(fleet.workdir / "site.yaml", mosquitto, tmp_path / "state", key)
    web_port = free_port()
    async with receiving_hook() as receiver:
        center_config = center_yaml(tmp_path, mosquitto, receiver.url, key, web_port)
        async with center_and_gateway(center_config, config, tmp_path):

            async def online() -> bool:
                code, out = await center_cli("sites", "--json", "-c", str(center_config))
                return code == 0 and any(s["site"] == SITE and s["online"] for s in json.loads(out))

            async with asyncio.timeout(30):
                while not await online():
                    await asyncio.sleep(0.3)

            # A fault opens one ticket at the helpdesk.
            await asyncio.to_thread(fleet.client.inject, "sw-core", "down", {})
            await receiver.wait_for("open", lambda: receiver.events)
            opened = receiver.events[0]
            validate(opened)
            ticket = opened["ticket_id"]
            assert (opened["event"], opened["seq"], opened["device"]["id"]) == (
                "open",
                1,
                "sw-core",
            )
            assert opened["fault"]["code"] == "device.unreachable"
            assert opened["acknowledged"] is None

            # The helpdesk acknowledges through the center: signed, taken by the gateway.
            code, out = await center_cli("ack", ticket, "--by", "desk-7", "-c", str(center_config))
            assert code == 0, out
            assert f"ticket {ticket} (site {SITE}): acknowledgement by desk-7 taken by the" \
                " gateway (signed)" in out  # fmt: skip

            # The technician reports arriving through the helpdesk's callback.
            body = b'{"by": "tech-1", "note": "on site"}'
            async with aiohttp.ClientSession() as session, session.post(
                f"http://127.0.0.1:{web_port}/api/v1/tickets/{ticket}/arrive?wait=10",
                data=body, headers={"X-Lvgw-Signature": signature(HOOK_KEY, body)},
            ) as response:  # fmt: skip
                answer = await response.json()
                assert (response.status, answer["state"]) == (200, "taken"), answer

            # Clearing resolves it; the resolve carries the acknowledgement and arrival.
            await asyncio.to_thread(fleet.client.clear, "sw-core", "down", {})
            await receiver.wait_for(
                "resolve", lambda: any(e["event"] == "resolve" for e in receiver.of(ticket))
            )
            events = receiver.of(ticket)
            assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
            assert [e["event"] for e in events].count("open") == 1
            resolved = events[-1]
            validate(resolved)
            assert resolved["acknowledged"]["by"] == "desk-7"
            assert resolved["arrived_at"] == answer["reply"]["arrived_at"]
            assert resolved["on_time"] == {"response": True, "onsite": True}
            assert receiver.bad == []

            code, out = await center_cli("tickets", "--json", "-c", str(center_config))
            (row,) = [t for t in json.loads(out) if t["ticket_id"] == ticket]
            assert (row["state"], row["on_time_response"], row["on_time_onsite"]) == (
                "resolved", True, True
            )  # fmt: skip
            assert row["acknowledged_at"] is not None
            assert row["deliveries"] == {"webhook": {"delivered": len(events)}}

            # The same event again, and another ticket's events out of order: the helpdesk
            # gets the second ticket's events once each, in seq order, and never the first
            # event again (it would have been queued, and delivered, before them).
            late = [ticket_event("t-late", seq, kind, site_id=SITE)
                    for seq, kind in [(1, "open"), (2, "update"), (3, "resolve")]]  # fmt: skip
            async with aiomqtt.Client(mosquitto.host, mosquitto.port) as site:
                for payload in [receiver.bodies[0], late[2], late[0], late[2], late[1]]:
                    await site.publish(f"lvgw/v1/{SITE}/tickets", payload, qos=1)
            await receiver.wait_for("t-late's resolve", lambda: len(receiver.of("t-late")) >= 3)
            assert [(e["seq"], e["event"]) for e in receiver.of("t-late")] == [
                (1, "open"), (2, "update"), (3, "resolve")
            ]  # fmt: skip
            assert [e["event_id"] for e in receiver.events].count(opened["event_id"]) == 1
            assert receiver.bodies[-3:] == late  # byte for byte as published
