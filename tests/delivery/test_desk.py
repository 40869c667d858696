"""`lvgw desk`, the reference consumer: countdowns, deduplication, acknowledgements."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import pytest

from drivers.tasks import stop_task
from gateway import desk
from gateway.config.load import load_config
from gateway.poller import PollResult
from gateway.tickets.wire import encode, event_payload
from tests.delivery.conftest import eventually
from tests.delivery.gateway import Gateway
from tests.delivery.site import write_site
from tests.realservers import Mosquitto

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def opened(**extra: object) -> dict[str, object]:
    return {
        "event_id": "e1", "event": "open", "ticket_id": "site-1-x", "seq": 1, "severity": 1,
        "title": "Switch sw-core is unreachable", "device": {"id": "sw-core"},
        "site": {"id": "site-1"}, "fault": {"code": "device.unreachable"},
        "occurred_at": "2026-11-22T09:59:30.000Z",
        "response_due": "2026-11-22T10:09:30.000Z", "onsite_due": "2026-11-22T11:59:30.000Z",
        "loaner_due": "2026-11-24T09:59:30.000Z", "acknowledged": None, **extra,
    }  # fmt: skip


def test_countdowns_to_each_deadline() -> None:
    text = desk.format_ticket(opened(), NOW)
    assert "OPEN" in text and "L1 system down" in text and "sw-core" in text
    assert "respond within 9m30s, on site within 1h59m, loaner within 47h59m" in text
    late = desk.format_ticket(opened(), NOW + timedelta(minutes=15))
    assert "respond within OVERDUE by 5m30s" in late
    acked = desk.format_ticket(opened(acknowledged={"by": "desk-7", "at": "x"}), NOW)
    assert "acknowledged by desk-7, on site within 1h59m" in acked
    reminder = desk.format_ticket(opened(event="reminder", reminder_no=2), NOW)
    assert "REMIND#2" in reminder


def test_one_acknowledgement_per_ticket_and_none_without_a_name() -> None:
    assert desk.Desk().ack_for(opened()) is None
    board = desk.Desk("desk-7")
    topic, payload = board.ack_for(opened()) or ("", b"")
    assert topic == "lvgw/v1/site-1/acks"
    assert json.loads(payload) == {
        "ticket_id": "site-1-x", "action": "ack", "by": "desk-7", "request_id": "site-1-x"
    }  # fmt: skip
    assert board.ack_for(opened(event_id="e2", event="reminder", seq=2)) is None
    assert board.ack_for(opened(acknowledged={"by": "someone"}, ticket_id="t2")) is None
    # A rise of the level cleared the acknowledgement: acknowledged again.
    rose = opened(event_id="e3", event="update", seq=3, severity=1, previous_severity=3)
    assert board.ack_for(rose) is not None
    assert board.ack_for(opened(event_id="e4", event="update", seq=4, severity=2,
                                previous_severity=1)) is None  # fmt: skip


def test_visits_onsite_reminders_and_on_time() -> None:
    onsite = desk.format_ticket(opened(event="reminder", reminder_no=1, reminder_kind="onsite"))
    assert "ONSITE#1" in onsite
    there = desk.format_ticket(opened(arrived_at="2026-11-22T10:40:00.000Z"), NOW)
    assert "respond within 9m30s, technician on site since 10:40" in there
    done = desk.format_ticket(opened(event="resolve", resolved_at="2026-11-22T12:00:00.000Z",
                                     on_time={"response": True, "onsite": False}), NOW)  # fmt: skip
    assert "resolved after 2h00m (on time: response yes, on site NO)" in done


def test_a_second_copy_of_an_event_is_not_new() -> None:
    board = desk.Desk()
    assert board.is_new(opened()) is True
    assert board.is_new(opened()) is False
    assert board.is_new(opened(event_id="e2")) is True


@pytest.mark.integration
async def test_desk_shows_and_acknowledges_what_the_gateway_sends(
    tmp_path: Path, quick_broker: Mosquitto
) -> None:
    mqtt = f"{{host: {quick_broker.host}, port: {quick_broker.port}}}"
    config = load_config(write_site(tmp_path, "site-k", mqtt, devices=1))
    out = io.StringIO()
    async with Gateway(config) as gateway:
        watcher = asyncio.create_task(
            desk.watch(quick_broker.host, quick_broker.port, "site-k", out, "desk-test", "desk-7")
        )
        try:
            await eventually(lambda: "gateway site-k is online" in out.getvalue(), 10, "status")
            events = []
            for _ in range(3):
                result = PollResult("sw-000", datetime.now(UTC), False, ())
                events += (await gateway.pipeline.handle(result)).events
            (event,) = events
            await eventually(lambda: "acknowledged by desk-7" in out.getvalue(), 10, "ack reply")
            ticket = gateway.pipeline.find(event.ticket_id)
            assert ticket is not None and ticket.acked_by == "desk-7"
            overdue = event.occurred_at + timedelta(days=1)
            assert (await gateway.pipeline.tick(overdue)).events == []  # no reminders

            # A repeated delivery of the same event is shown once.
            site = config.site_file.site
            payload = encode(event_payload(event, site, config.device("sw-000")))
            async with aiomqtt.Client(quick_broker.host, quick_broker.port) as again:
                await again.publish("lvgw/v1/site-k/tickets", payload, qos=1)
                await again.publish("lvgw/v1/site-k/status", b'{"state": "marker"}', qos=1)
            await eventually(lambda: "is marker" in out.getvalue(), 10, "marker")
        finally:
            await stop_task(watcher)
    text = out.getvalue()
    assert text.count("OPEN") == 1
    assert f"ticket {event.ticket_id} #1" in text
    assert "respond within 1h" not in text  # level 2: 1 h, counting down from the fault
    assert "respond within 59m" in text
    assert f"ticket {event.ticket_id} acknowledged by desk-7" in text
