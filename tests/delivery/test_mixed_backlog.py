"""A backlog of several classes drains completely through MqttUplink: tickets first,
then control messages, each class in its own order (regression: a cursor of the
highest id handed out skipped the lower class's messages stored before the last
ticket)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest

from drivers.backoff import Backoff
from drivers.tasks import stop_task
from gateway.config.site import Mqtt
from gateway.outbox import MessageClass, Outbox, OutboxMessage
from gateway.uplink import MqttUplink
from tests.realservers import Mosquitto

pytestmark = pytest.mark.integration

PREFIX = "lvgw/v1/site-m/"
ROUNDS, CONTROL, TICKETS = 4, 200, 20  # more tickets than one window (50)


def control(text: str) -> OutboxMessage:
    return OutboxMessage(PREFIX + "control", text.encode(), 1, False, MessageClass.CONTROL)


@pytest.fixture
async def received(quick_broker: Mosquitto) -> AsyncIterator[list[tuple[str, bytes]]]:
    seen: list[tuple[str, bytes]] = []

    async def listen(client: aiomqtt.Client) -> None:
        async for message in client.messages:
            seen.append((str(message.topic), bytes(message.payload)))

    async with aiomqtt.Client(quick_broker.host, quick_broker.port) as client:
        await client.subscribe(PREFIX + "tickets", qos=1)
        await client.subscribe(PREFIX + "control", qos=1)
        task = asyncio.create_task(listen(client), name="backlog observer")
        yield seen
        await stop_task(task)
        assert task.cancelled(), task.exception()


async def test_mixed_backlog_drains_tickets_first_and_everything_in_order(
    tmp_path: Path,
    quick_broker: Mosquitto,
    received: list[tuple[str, bytes]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    async with Outbox(tmp_path / "outbox.db") as outbox:
        for r in range(ROUNDS):  # rounds of the outage: control messages, then tickets
            await outbox.put_many(
                [
                    *(control(f"c{r}-{n:03d}") for n in range(CONTROL)),
                    *(
                        OutboxMessage(PREFIX + "tickets", f"t{r}-{n}".encode())
                        for n in range(TICKETS)
                    ),
                ]
            )
        mqtt = Mqtt(host=quick_broker.host, port=quick_broker.port, client_id="lvgw-site-m")
        uplink = MqttUplink(mqtt, "site-m", outbox, backoff=Backoff(0.1, 1.0))
        task = asyncio.create_task(uplink.run(), name="uplink site-m")
        try:
            async with asyncio.timeout(30):
                while sum(b.messages for b in (await outbox.stats()).backlog.values()):
                    await asyncio.sleep(0.05)
                while len(received) < ROUNDS * (CONTROL + TICKETS):
                    await asyncio.sleep(0.05)
        finally:
            await stop_task(task)
    payloads = [p.decode() for _, p in received]
    tickets = [f"t{r}-{n}" for r in range(ROUNDS) for n in range(TICKETS)]
    replies = [f"c{r}-{n:03d}" for r in range(ROUNDS) for n in range(CONTROL)]
    assert payloads == tickets + replies
    assert uplink.stats.delivered == len(payloads)
    noisy = [r.getMessage() for r in caplog.records if "pending publish calls" in r.getMessage()]
    assert noisy == []
