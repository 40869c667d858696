"""``cmd/config`` against `lvgw run` (net-snmp's snmpd as the device, real mosquitto):
a new site file applied, refused (mistakes, no command key, forged, replayed) or rolled
back when the gateway cannot reach a broker with it."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiomqtt

from gateway import signing
from gateway.demo.processes import free_port
from tests.e2e.test_center_e2e import start, stop
from tests.realservers import Mosquitto, Snmpd

SITE = "site-cfg"
KEY = b"a-command-key-for-the-test-0123456789"
ROLLBACK_AFTER = 3.0  # seconds (5 minutes by default)


def site_text(broker_port: int, agent: Snmpd, state: Path, name: str, keyed: bool = True) -> str:
    key = "\n  command_key_file: command.key" if keyed else ""
    return f"""\
site:
  id: {SITE}
  name: {name}
  customer: {{name: Test Customer}}
  contract: {{type: annual}}
uplink:
  mqtt: {{host: 127.0.0.1, port: {broker_port}}}{key}
  config_rollback_after: {ROLLBACK_AFTER:g}s
agent:
  state_dir: {state}
  status_listen: null
devices:
  - id: sw-core
    kind: switch
    profile: switch-generic
    address: 127.0.0.1
    port: {agent.port}
    snmp: {{version: 2c, community: public, timeout: 0.3s, retries: 0}}
    interval: 1s
"""


@contextmanager
def gateway_on(site: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = start(["gateway", "run", "-c", str(site)], log)
    try:
        yield proc
    finally:
        stop(proc, log)


class Desk:
    """The service center's side: sends ``cmd/config`` and collects its replies."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.replies: list[dict[str, Any]] = []
        self.online = 0

    async def wait_online(self, count: int, timeout: float = 20) -> None:
        """Until the gateway has said "online" ``count`` times since the desk started."""
        await self._until(lambda: self.online >= count, timeout)

    async def send(self, body: dict[str, Any], key: bytes | None = KEY) -> dict[str, Any]:
        message = signing.sign(body, key) if key is not None else dict(body)
        await self.client.publish(f"lvgw/v1/{SITE}/cmd/config", json.dumps(message), qos=1)
        return message

    async def reply(self, request_id: str, n: int = 1, timeout: float = 20) -> dict[str, Any]:
        """The ``n``th reply to ``request_id``."""
        await self._until(lambda: len(self.of(request_id)) >= n, timeout)
        return self.of(request_id)[n - 1]

    def of(self, request_id: str) -> list[dict[str, Any]]:
        return [r for r in self.replies if r.get("request_id") == request_id]

    async def _until(self, check: Any, timeout: float) -> None:
        if check():
            return
        async with asyncio.timeout(timeout):
            async for message in self.client.messages:
                body = json.loads(bytes(message.payload))
                if str(message.topic).endswith("/status"):
                    self.online += body.get("state") == "online"
                else:
                    self.replies.append(body)
                if check():
                    return
        raise AssertionError("unreachable")


@asynccontextmanager
async def desk_on(port: int) -> AsyncIterator[Desk]:
    async with aiomqtt.Client("127.0.0.1", port, identifier=f"desk-{secrets.token_hex(4)}") as c:
        await c.subscribe(f"lvgw/v1/{SITE}/cmd-reply/config", qos=1)
        await c.subscribe(f"lvgw/v1/{SITE}/status", qos=1)
        yield Desk(c)


def prepare(tmp_path: Path, mosquitto: Mosquitto, snmpd: Snmpd, keyed: bool = True) -> Path:
    (tmp_path / "command.key").write_bytes(KEY + b"\n")
    site = tmp_path / "site.yaml"
    site.write_text(site_text(mosquitto.port, snmpd, tmp_path / "state", "Before", keyed))
    return site


async def test_a_new_site_file_is_applied_and_a_replay_changes_nothing(
    tmp_path: Path, mosquitto: Mosquitto, snmpd: Snmpd
) -> None:
    site = prepare(tmp_path, mosquitto, snmpd)
    before = site.read_text()
    after = site_text(mosquitto.port, snmpd, tmp_path / "state", "After")
    async with desk_on(mosquitto.port) as desk:
        with gateway_on(site, tmp_path / "gateway.log"):
            await desk.wait_online(1)
            sent = await desk.send({"request_id": "c-1", "site_file": after})
            accepted = await desk.reply("c-1")
            assert accepted["ok"] is True and accepted["result"] == "accepted", accepted
            applied = await desk.reply("c-1", 2)
            assert applied == {"ok": True, "result": "applied", "request_id": "c-1"}
            assert site.read_text() == after
            assert (tmp_path / "site.yaml.previous").read_text() == before
            assert not (tmp_path / "site.yaml.new").exists()
            await desk.wait_online(2)  # it restarted on the new file and is online

            # The same signed message again: a replay, refused; the file stays.
            await desk.client.publish(f"lvgw/v1/{SITE}/cmd/config", json.dumps(sent), qos=1)
            replayed = await desk.reply("c-1", 3)
            assert replayed["ok"] is False
            assert replayed["error"].startswith("unauthenticated: replayed"), replayed
            # A forged one (signed with another key): refused, nothing changes.
            await desk.send({"request_id": "c-2", "site_file": before}, key=b"not-the-key")
            forged = await desk.reply("c-2")
            assert forged["ok"] is False
            assert forged["error"] == "unauthenticated: bad signature", forged
            unsigned = await desk.send({"request_id": "c-3", "site_file": before}, key=None)
            assert unsigned["request_id"] == "c-3"
            refused = await desk.reply("c-3")
            assert refused["error"].startswith("unauthenticated: the message is not signed")
            assert site.read_text() == after
    log = (tmp_path / "gateway.log").read_text()
    assert "agent reloading" in log
    assert "new site file applied" in log


async def test_a_site_file_with_mistakes_is_refused_with_file_and_line(
    tmp_path: Path, mosquitto: Mosquitto, snmpd: Snmpd
) -> None:
    site = prepare(tmp_path, mosquitto, snmpd)
    before = site.read_text()
    broken = before.replace("interval: 1s", "interval: often").replace(
        "kind: switch", "kind: toaster"
    )
    async with desk_on(mosquitto.port) as desk:
        with gateway_on(site, tmp_path / "gateway.log"):
            await desk.wait_online(1)
            await desk.send({"request_id": "bad", "site_file": broken})
            reply = await desk.reply("bad")
            assert reply["ok"] is False and reply["result"] == "refused", reply
            new = tmp_path / "site.yaml.new"
            lines = broken.splitlines()
            kind_line = lines.index("    kind: toaster") + 1
            interval_line = lines.index("    interval: often") + 1
            problems = reply["problems"]
            assert any(p.startswith(f"{new}:{kind_line}: ") for p in problems), problems
            assert any(p.startswith(f"{new}:{interval_line}: ") for p in problems), problems
            assert reply["error"].startswith(f"the site file has {len(problems)} problems: ")
            # Nothing changed: the same file, no restart, still answering.
            assert site.read_text() == before
            assert not new.exists() and not (tmp_path / "site.yaml.previous").exists()
            await desk.send({"request_id": "other-site", "site_file": before.replace(
                f"id: {SITE}", "id: another-site")})  # fmt: skip
            other = await desk.reply("other-site")
            assert "site.id must stay 'site-cfg'" in other["error"], other
    assert "agent reloading" not in (tmp_path / "gateway.log").read_text()


async def test_without_a_command_key_a_site_file_is_refused(
    tmp_path: Path, mosquitto: Mosquitto, snmpd: Snmpd
) -> None:
    site = prepare(tmp_path, mosquitto, snmpd, keyed=False)
    before = site.read_text()
    async with desk_on(mosquitto.port) as desk:
        with gateway_on(site, tmp_path / "gateway.log"):
            await desk.wait_online(1)
            await desk.send({"request_id": "nokey", "site_file": before}, key=None)
            reply = await desk.reply("nokey")
    assert reply == {
        "ok": False, "result": "refused", "request_id": "nokey",
        "error": "refused: a new site file needs a command key (uplink.command_key_file)",
    }  # fmt: skip
    assert site.read_text() == before


async def test_a_site_file_whose_broker_cannot_be_reached_is_rolled_back(
    tmp_path: Path, mosquitto: Mosquitto, snmpd: Snmpd
) -> None:
    site = prepare(tmp_path, mosquitto, snmpd)
    before = site.read_text()
    nowhere = free_port()  # nothing listens there
    unreachable = site_text(nowhere, snmpd, tmp_path / "state", "Unreachable")
    async with desk_on(mosquitto.port) as desk:
        with gateway_on(site, tmp_path / "gateway.log") as gateway:
            await desk.wait_online(1)
            await desk.send({"request_id": "away", "site_file": unreachable})
            accepted = await desk.reply("away")
            assert accepted["result"] == "accepted", accepted
            rolled = await desk.reply("away", 2, timeout=ROLLBACK_AFTER + 20)
            assert rolled["ok"] is False and rolled["result"] == "rolled_back", rolled
            assert f"could not reach the broker 127.0.0.1:{nowhere}" in rolled["error"]
            assert site.read_text() == before
            await desk.wait_online(2)  # back on its broker with the previous file
            assert gateway.poll() is None
    assert not (tmp_path / "state" / "config-swap.json").exists()
