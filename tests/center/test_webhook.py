"""The webhook adapter against a local aiohttp receiver that checks the signature as
docs/center.md states it: every event once, in order per ticket, through an outage."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiomqtt
import pytest
from aiohttp import web

from center.service import Center
from tests.center.conftest import center_file, load, running
from tests.center.events import ticket_event
from tests.httpreceiver import serving, signed
from tests.realservers import Mosquitto

pytestmark = pytest.mark.integration
TOPIC = "lvgw/v1/site-001/tickets"
KEY = b"webhook-key"


@dataclass
class Receiver:
    """Answers ``failing`` while it is non-zero, then 200; keeps what it accepted."""

    url: str = ""
    failing: int = 0
    stall: bool = False  # hold every request until `released`
    released: asyncio.Event = field(default_factory=asyncio.Event)
    accepted: list[bytes] = field(default_factory=list)
    refused: int = 0
    bad_signatures: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not signed(KEY, body, request.headers.get("X-Lvgw-Signature")):
            self.bad_signatures += 1
            return web.Response(status=401)
        assert request.headers["X-Lvgw-Event-Id"] == json.loads(body)["event_id"]
        if self.stall:
            await self.released.wait()
        if self.failing:
            self.failing -= 1
            self.refused += 1
            return web.Response(status=503)
        self.accepted.append(body)
        return web.Response(status=204)

    def seqs(self, ticket_id: str) -> list[int]:
        bodies = [json.loads(b) for b in self.accepted]
        return [b["seq"] for b in bodies if b["ticket_id"] == ticket_id]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()
    async with serving(state.handle, "/hook") as url:
        state.url = f"{url}/hook"
        try:
            yield state
        finally:
            state.released.set()


def hook_center(tmp_path: Path, broker: Mosquitto, receiver: Receiver, more: str = "") -> Center:
    secret = tmp_path / "hook.secret"
    secret.write_bytes(KEY + b"\n")
    secret.chmod(0o600)
    adapters = (
        f"[{{type: webhook, url: '{receiver.url}', secret_file: hook.secret,"
        f" backoff_initial: 0.02, backoff_max: 0.2{more}}}]"
    )
    return Center(load(center_file(tmp_path, broker, adapters)))


async def until(predicate: object, what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.02)


def events_of(*tickets: str) -> list[bytes]:
    kinds = ["open", "update", "resolve"]
    return [ticket_event(t, seq, kinds[seq - 1]) for t in tickets for seq in (1, 2, 3)]


async def publish(broker: Mosquitto, payloads: list[bytes]) -> None:
    async with aiomqtt.Client(broker.host, broker.port) as site:
        for payload in payloads:
            await site.publish(TOPIC, payload, qos=1)


async def test_an_outage_drains_in_order_with_nothing_lost(
    tmp_path: Path, mosquitto: Mosquitto, receiver: Receiver
) -> None:
    receiver.failing = 12  # 503 for a while
    center = hook_center(tmp_path, mosquitto, receiver)
    published = events_of("t-a", "t-b")
    # Out of order on the wire: the later events first.
    on_wire = [p for p in published if json.loads(p)["seq"] == 3] + [
        p for p in published if json.loads(p)["seq"] != 3
    ]
    async with running(center):
        await publish(mosquitto, on_wire)
        await until(lambda: len(receiver.accepted) == 6, "all six delivered")
        await asyncio.sleep(0.3)  # nothing more arrives: each event once
        assert await center.store.delivery_counts() == {"webhook": {"delivered": 6}}
    assert receiver.refused == 12
    assert receiver.bad_signatures == 0
    assert sorted(receiver.accepted) == sorted(published)  # byte for byte as published
    assert receiver.seqs("t-a") == [1, 2, 3]
    assert receiver.seqs("t-b") == [1, 2, 3]


async def test_a_stalled_adapter_does_not_slow_ingest(
    tmp_path: Path, mosquitto: Mosquitto, receiver: Receiver
) -> None:
    receiver.stall = True  # answers nothing
    center = hook_center(tmp_path, mosquitto, receiver, ", timeout: 60s")
    published = events_of(*(f"t-{i}" for i in range(10)))
    async with running(center):
        started = time.monotonic()
        await publish(mosquitto, published)

        async def stored() -> int:
            return sum(t.applied_seq for t in await center.store.tickets())

        while await stored() < 30:
            assert time.monotonic() - started < 10, "ingest waited for the adapter"
            await asyncio.sleep(0.02)
        assert receiver.accepted == []


async def test_a_delivery_that_keeps_failing_is_dead_lettered(
    tmp_path: Path, mosquitto: Mosquitto, receiver: Receiver
) -> None:
    receiver.failing = 1000
    center = hook_center(tmp_path, mosquitto, receiver, ", dead_after: 3")
    opened = ticket_event("t-1", 1)
    async with running(center):
        await publish(mosquitto, [opened])

        counts: dict[str, dict[str, int]] = {}

        async def dead() -> bool:
            counts.update(await center.store.delivery_counts())
            return counts.get("webhook") == {"dead": 1}

        deadline = time.monotonic() + 15
        while not await dead():
            assert time.monotonic() < deadline, counts
            await asyncio.sleep(0.02)
    assert receiver.refused == 3
