"""Supervision in the agent: a part with a bug is restarted with backoff and shown as
degraded (status snapshot, MQTT status), while polling and delivery go on."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from drivers.tasks import stop_task
from gateway import snapshot
from gateway.agent import Agent
from gateway.config import load_config
from gateway.views.status import render
from tests.realservers import Mosquitto, free_port

pytestmark = pytest.mark.integration

PREFIX = "lvgw/v1/site-s/"


def site(tmp_path: Path, broker: Mosquitto) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(
        "site: {id: site-s, name: S, customer: {name: C}, contract: {type: annual}}\n"
        f"uplink: {{mqtt: {{host: 127.0.0.1, port: {broker.port}}}}}\n"
        f"agent: {{state_dir: {tmp_path / 'state'}, status_listen: null}}\n"
        "devices:\n"
        f"  - {{id: sw-1, kind: switch, profile: switch-generic, address: 127.0.0.1,"
        f" port: {free_port()}, interval: 1s, snmp: {{timeout: 0.2s, retries: 0}}}}\n"
    )
    return path


async def statuses(broker: Mosquitto, seen: list[dict[str, Any]]) -> None:
    async with aiomqtt.Client("127.0.0.1", broker.port, identifier="center") as client:
        await client.subscribe(PREFIX + "status", qos=1)
        async for message in client.messages:
            seen.append(json.loads(bytes(message.payload)))


async def until(predicate: Any, timeout: float, what: str) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.1)


async def test_a_part_with_a_bug_is_restarted_and_shown_degraded(
    tmp_path: Path, mosquitto: Mosquitto, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = [0]

    async def broken_health(self: Agent, every: float = 0) -> None:
        failures[0] += 1
        raise ValueError("a bug in the health readings")

    monkeypatch.setattr(Agent, "_health", broken_health)
    config = load_config(site(tmp_path, mosquitto))
    agent = Agent(config)
    stop = asyncio.Event()
    seen: list[dict[str, Any]] = []
    watcher = asyncio.create_task(statuses(mosquitto, seen))
    running = asyncio.create_task(agent.run(stop))
    state_dir = tmp_path / "state"

    def snap() -> snapshot.StatusSnapshot | None:
        try:
            return snapshot.read(state_dir)
        except (OSError, ValueError):
            return None

    try:
        await until(lambda: (s := snap()) is not None and s.agent.degraded == ("health",), 20, "")
        first = snap()
        assert first is not None and first.agent.failures["health"] >= 1
        shown = io.StringIO()
        render(first, shown, {})  # `lvgw status` (no readings left out)
        assert "DEGRADED (restarting): health (" in shown.getvalue()
        # The MQTT status says so too (republished when the list changes).
        await until(lambda: any(s.get("degraded") == ["health"] for s in seen), 20, "")
        # The rest goes on: the device keeps being polled.
        polled = first.device("sw-1")
        await until(
            lambda: (s := snap()) is not None and s.device("sw-1") != polled, 10, "polls go on"
        )
        assert failures[0] >= 2  # restarted
        assert not running.done()
    finally:
        stop.set()
        await asyncio.wait_for(running, 20)
        await stop_task(watcher)
    assert seen[-1]["state"] == "offline"
