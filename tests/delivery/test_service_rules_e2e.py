"""Acceptance, on real mosquitto: the service rules as the service center lives them.

An acknowledged level-3 ticket escalated to level 1 gets fresh deadlines, loses its
acknowledgement and is reminded again; a technician's ``arrived`` (sent on ``acks``)
stops the on-site reminders that another ticket, with nobody on site, gets; every
``resolve`` carries ``on_time``. Every event received validates against the
published schema.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import jsonschema
import pytest

from gateway.config.load import load_config
from gateway.model import Reading
from gateway.poller import PollResult
from tests.delivery.conftest import NO_DELAY
from tests.delivery.gateway import Gateway
from tests.delivery.service_center import ServiceCenter
from tests.delivery.site import PROFILE, write_site
from tests.realservers import Mosquitto

pytestmark = pytest.mark.integration

SITE = "site-r"
PREFIX = f"lvgw/v1/{SITE}/"
SCHEMA = json.loads(Path("docs/schemas/ticket-event.schema.json").read_text())
HOT_RULE = """\
  - code: temp.high
    type: check
    title: "{device} runs hot"
    level: 3
    when: {point: temp, gt: 70}
    escalate:
      - level: 1
        when: {point: temp, gt: 90}
"""
HOT_PROFILE = (
    PROFILE.replace(
        "points:\n", "points:\n  temp: {oid: 1.3.6.1.4.1.99.1.0, type: gauge, unit: C}\n"
    )
    + HOT_RULE
)


def hot(device: str, temp: float, at: datetime) -> PollResult:
    return PollResult(device, at, True, (Reading(device, "temp", temp, at, unit="C"),))


def instant(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text)


@pytest.fixture
async def desk(quick_broker: Mosquitto) -> AsyncIterator[aiomqtt.Client]:
    async with aiomqtt.Client(
        quick_broker.host, quick_broker.port, identifier="desk-r", socket_options=[NO_DELAY]
    ) as client:
        await client.subscribe(PREFIX + "acks-reply", qos=1)
        yield client


async def send(desk: aiomqtt.Client, **body: Any) -> dict[str, Any]:
    """One message on ``acks``; the gateway's reply."""
    await desk.publish(PREFIX + "acks", json.dumps(body).encode(), qos=1)
    message = await asyncio.wait_for(anext(aiter(desk.messages)), 10)
    reply: dict[str, Any] = json.loads(bytes(message.payload))
    return reply


async def test_escalation_arrival_and_on_time_over_mqtt(
    tmp_path: Path, quick_broker: Mosquitto, desk: aiomqtt.Client
) -> None:
    mqtt = f"{{host: {quick_broker.host}, port: {quick_broker.port}}}"
    config = load_config(write_site(tmp_path, SITE, mqtt, devices=2, profile=HOT_PROFILE))
    center = ServiceCenter(quick_broker.host, quick_broker.port, SITE, client_id="center-r")
    await center.start()
    try:
        async with Gateway(config) as gateway:
            await asyncio.wait_for(gateway.uplink.connected.wait(), 10)
            pipeline = gateway.pipeline

            async def received(count: int) -> list[dict[str, Any]]:
                await center.wait_for(lambda: len(center.events) >= count, 10)
                return center.events[:count]

            # Two devices run hot: level 3, 2 h to respond, 72 h to be on site.
            t0 = datetime.now(UTC).replace(microsecond=0)  # the wire has milliseconds
            for device in ("sw-000", "sw-001"):
                await pipeline.handle(hot(device, 80, t0))
            opened = {e["device"]["id"]: e for e in await received(2)}
            first = opened["sw-000"]
            assert (first["event"], first["severity"]) == ("open", 3)
            assert instant(first["response_due"]) == t0 + timedelta(hours=2)
            assert instant(first["onsite_due"]) == t0 + timedelta(hours=72)
            assert instant(first["loaner_due"]) == t0 + timedelta(hours=48)

            reply = await send(desk, ticket_id=first["ticket_id"], action="ack", by="desk-7")
            assert reply == {"ok": True, "ticket_id": first["ticket_id"], "acked_by": "desk-7"}

            # sw-000 gets much hotter: level 1, fresh deadlines from the rise, the
            # acknowledgement cleared (a level-1 fault needs its own answer).
            await pipeline.handle(hot("sw-000", 95, t0 + timedelta(seconds=30)))
            update = (await received(3))[2]
            assert (update["event"], update["severity"], update["previous_severity"]) == (
                "update", 1, 3
            )  # fmt: skip
            assert update["acknowledged"] is None
            risen = instant(update["emitted_at"])  # the rise was decided just before
            rise_clock = instant(update["response_due"]) - timedelta(minutes=10)
            assert risen - timedelta(seconds=1) <= rise_clock <= risen
            assert instant(update["response_due"]) > datetime.now(UTC)  # never in the past
            assert instant(update["onsite_due"]) - instant(update["response_due"]) == timedelta(
                minutes=110
            )
            assert update["loaner_due"] == first["loaner_due"]  # counts from the fault

            # Not acknowledged within 10 minutes: reminded again.
            response_due = instant(update["response_due"])
            await pipeline.tick(response_due + timedelta(milliseconds=1))  # the wire's precision
            reminder = (await received(4))[3]
            assert (reminder["event"], reminder["reminder_kind"], reminder["reminder_no"]) == (
                "reminder", "response", 1
            )  # fmt: skip

            # The desk answers, and the technician reports arriving at sw-000.
            await send(desk, ticket_id=first["ticket_id"], action="ack", by="desk-7")
            reply = await send(desk, ticket_id=first["ticket_id"], action="arrived", by="tech-li")
            assert reply["ok"] is True and reply["arrived_at"] is not None

            # Past sw-000's 2 h visit and sw-001's 72 h one: only sw-001, where nobody
            # arrived, gets an on-site reminder (and a response one: never answered).
            later = t0 + timedelta(hours=73)
            await pipeline.tick(later)
            reminders = (await received(6))[4:]
            assert {(e["device"]["id"], e["reminder_kind"]) for e in reminders} == {
                ("sw-001", "response"), ("sw-001", "onsite")
            }  # fmt: skip
            assert (await pipeline.tick(later + timedelta(hours=1))).events == []

            departed = await send(desk, ticket_id=first["ticket_id"], action="departed",
                                  by="tech-li")  # fmt: skip
            assert departed["departed_at"] is not None

            # Both cool down: every resolve says whether the service was on time.
            for device in ("sw-000", "sw-001"):
                await pipeline.handle(hot(device, 50, later + timedelta(hours=2)))
            resolved = {e["device"]["id"]: e for e in (await received(8))[6:]}
            assert resolved["sw-000"]["event"] == "resolve"
            assert resolved["sw-000"]["on_time"] == {"response": True, "onsite": True}
            assert resolved["sw-000"]["arrived_at"] == reply["arrived_at"]
            assert resolved["sw-000"]["departed_at"] == departed["departed_at"]
            assert resolved["sw-001"]["on_time"] == {"response": False, "onsite": False}

            validator = jsonschema.Draft202012Validator(SCHEMA)
            for event in center.events:
                validator.validate(event)
    finally:
        await center.stop()
