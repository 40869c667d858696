"""Acceptance: malformed, oversized and unknown inbound messages get error replies on
the reply topic, and the gateway carries on: a valid acknowledgement afterwards still
works and stops the reminders."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from gateway.config.load import load_config
from gateway.model import EventKind, ReminderKind
from gateway.pipeline import load_tickets
from gateway.poller import PollResult
from tests.delivery.conftest import NO_DELAY
from tests.delivery.gateway import Gateway
from tests.delivery.site import write_site
from tests.realservers import Mosquitto

pytestmark = pytest.mark.integration

SITE = "site-f"
PREFIX = f"lvgw/v1/{SITE}/"
MB = 1024 * 1024


def ack(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


GOOD = {"ticket_id": "site-f-20260101-000000-abcdef", "action": "ack", "by": "desk-7"}

# (topic suffix, payload, what the error reply must say)
CORPUS: list[tuple[str, bytes, str]] = [
    ("acks", b"", "not JSON"),
    ("acks", b"ack please", "not JSON"),
    ("acks", b'{"ticket_id": ', "not JSON"),
    ("acks", b"\xff\xfe\x00\x01binary", "not JSON"),
    ("acks", b"[" * 50_000, "nested too deeply"),
    ("acks", b"1" * 5_000, "not JSON"),  # over Python's 4,300-digit integer limit
    ("acks", b"[]", "is not of type 'object'"),
    ("acks", b'"ack"', "is not of type 'object'"),
    ("acks", b"null", "is not of type 'object'"),
    ("acks", b"{}", "'ticket_id' is a required property"),
    ("acks", ack(ticket_id=7, action="ack", by="desk-7"), "invalid ticket_id"),
    ("acks", ack(ticket_id="t", action="close", by="desk-7"), "invalid action"),
    ("acks", ack(ticket_id="t", action="ack"), "'by' is a required property"),
    ("acks", ack(**GOOD, priority="high"), "Additional properties"),
    ("acks", ack(**{**GOOD, "by": "x" * 201}), "invalid by"),
    ("acks", ack(**GOOD, request_id=42), "invalid request_id"),
    ("acks", b'{"ticket_id": NaN, "action": "ack", "by": "x"}', "not JSON: NaN"),
    ("acks", ack(**GOOD), "no open ticket"),  # well formed, unknown ticket
    ("acks", b"{" + b" " * MB + b"}", "too large"),
    ("acks", random.Random(1).randbytes(MB), "too large"),
    ("cmd/reboot", ack(confirm=True), "unknown command 'reboot'"),
    ("cmd/", b"{}", "unknown command ''"),
    ("cmd/" + "x" * 300, b"{}", "unknown command"),
    ("cmd/ping", b"\x00" * 16, "unknown command 'ping'"),
    ("cmd/ping", b"x" * MB, "unknown command 'ping'"),
]
# Random bytes and random JSON-ish text on the acks topic.
_rng = random.Random(6)
CORPUS += [("acks", _rng.randbytes(_rng.randrange(1, 3000)), "") for _ in range(30)]
CORPUS += [
    ("acks", json.dumps({_rng.choice("abcxyz"): _rng.random() for _ in range(3)}).encode(), "")
    for _ in range(10)
]


def expected_reply_topic(suffix: str) -> str:
    return PREFIX + ("acks-reply" if suffix == "acks" else "cmd-reply/" + suffix[4:])


@pytest.fixture
async def desk(quick_broker: Mosquitto) -> AsyncIterator[aiomqtt.Client]:
    """The service center's client, listening for the gateway's replies."""
    async with aiomqtt.Client(
        quick_broker.host, quick_broker.port, identifier="desk", socket_options=[NO_DELAY]
    ) as client:
        await client.subscribe(PREFIX + "acks-reply", qos=1)
        await client.subscribe(PREFIX + "cmd-reply/#", qos=1)
        yield client


async def reply(desk: aiomqtt.Client) -> tuple[str, dict[str, Any]]:
    message = await asyncio.wait_for(anext(aiter(desk.messages)), 10)
    return str(message.topic), json.loads(bytes(message.payload))


async def test_bad_inbound_messages_get_error_replies_and_acks_still_work(
    tmp_path: Path, quick_broker: Mosquitto, desk: aiomqtt.Client
) -> None:
    mqtt = f"{{host: {quick_broker.host}, port: {quick_broker.port}}}"
    config = load_config(write_site(tmp_path, SITE, mqtt, devices=1, clocks="{response: {2: 60s}}"))
    async with Gateway(config) as gateway:
        await asyncio.wait_for(gateway.uplink.connected.wait(), 10)
        opened = []
        for _ in range(3):
            result = PollResult("sw-000", datetime.now(UTC), False, ())
            opened += (await gateway.pipeline.handle(result)).events
        (ticket,) = opened
        overdue = ticket.occurred_at + timedelta(seconds=61)
        reminders = (await gateway.pipeline.tick(overdue)).events
        assert [e.event for e in reminders] == [EventKind.REMINDER]

        for suffix, payload, says in CORPUS:
            await desk.publish(PREFIX + suffix, payload, qos=1)
            topic, body = await reply(desk)
            assert topic == expected_reply_topic(suffix), (suffix, payload[:80])
            assert body["ok"] is False, (suffix, payload[:80], body)
            assert says in body["error"], (suffix, payload[:80], body)
            assert len(body["error"]) <= 300
        assert gateway.running
        assert gateway.uplink.stats.connects == 1  # never dropped the connection
        assert gateway.inbound.rejected == len(CORPUS)

        # A request id is echoed, also on an error.
        await desk.publish(PREFIX + "acks", ack(action="ack", request_id="r-1"), qos=1)
        assert (await reply(desk))[1]["request_id"] == "r-1"

        valid = {
            "ticket_id": ticket.ticket_id,
            "action": "ack",
            "by": "desk-7",
            "request_id": "r-2",
        }
        await desk.publish(PREFIX + "acks", json.dumps(valid).encode(), qos=1)
        topic, body = await reply(desk)
        assert topic == PREFIX + "acks-reply"
        assert body == {
            "ok": True,
            "ticket_id": ticket.ticket_id,
            "acked_by": "desk-7",
            "request_id": "r-2",
        }
        # Acknowledged: no more response reminders, however late it gets (nobody on
        # site after 48 h is the on-site deadline's reminder).
        late = (await gateway.pipeline.tick(overdue + timedelta(days=3))).events
        assert [e.reminder_kind for e in late] == [ReminderKind.ONSITE]
        assert gateway.pipeline.find(ticket.ticket_id).acked_by == "desk-7"  # type: ignore[union-attr]
        assert (await load_tickets(gateway.outbox))[0].acked_by == "desk-7"  # and on disk


async def test_replies_are_not_held_back_by_nagle(
    tmp_path: Path, quick_broker: Mosquitto, desk: aiomqtt.Client
) -> None:
    """With Nagle's algorithm on the gateway's socket a reply that follows another small
    packet waits for its TCP acknowledgement: 40 ms or more each (Linux delayed ACK)."""
    mqtt = f"{{host: {quick_broker.host}, port: {quick_broker.port}}}"
    config = load_config(write_site(tmp_path, SITE, mqtt, devices=1))
    async with Gateway(config) as gateway:
        await asyncio.wait_for(gateway.uplink.connected.wait(), 10)
        round_trips = []
        for _ in range(21):
            started = time.perf_counter()
            await desk.publish(PREFIX + "acks", ack(**GOOD), qos=1)
            await reply(desk)
            round_trips.append(time.perf_counter() - started)
    # Nagle holds back every such reply by the delayed ACK, so no round trip would come
    # in under 40 ms; without it most take a few ms. The quickest of 21 is what tells
    # them apart: a loaded machine slows some round trips, not every one.
    assert min(round_trips) < 0.030, round_trips
