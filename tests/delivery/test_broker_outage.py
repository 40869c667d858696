"""Acceptance: the broker killed for 60 s during a storm of 1,000 ticket events.

The gateway (the real Pipeline, TicketStore, Outbox and MqttUplink) decides the storm's
events while it publishes; mosquitto is SIGKILLed half way through and restarted on
the same port a minute later. A persistent-session consumer subscribed before the
storm must receive every event at least once, with no ``seq`` gap and in order per
ticket.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from gateway.config.load import load_config
from gateway.model import TicketEvent
from tests.delivery.brokers import PersistentMosquitto
from tests.delivery.checks import first_copies, reopen_problems, sequence_problems, still_open
from tests.delivery.gateway import Gateway
from tests.delivery.service_center import ServiceCenter
from tests.delivery.site import Storm, drive, write_site

OUTAGE_S = 60.0
STORM = Storm(devices=50, cycles=10)  # 500 incidents: 1,000 events

pytestmark = pytest.mark.integration


async def test_storm_survives_a_minute_without_broker(
    tmp_path: Path, persistent_broker: PersistentMosquitto, persistent_center: ServiceCenter
) -> None:
    broker, center = persistent_broker, persistent_center
    mqtt = f"{{host: {broker.host}, port: {broker.port}}}"
    config = load_config(write_site(tmp_path, "site-d", mqtt, STORM.devices))
    decided: list[TicketEvent] = []
    seen_before_kill = -1
    killed_at = 0.0

    async def on_decided(events: list[TicketEvent]) -> None:
        nonlocal seen_before_kill, killed_at
        decided.extend(events)
        if seen_before_kill < 0 and len(decided) >= STORM.incidents:  # half way
            broker.kill()
            killed_at = time.monotonic()
            seen_before_kill = len(center.events)

    async with Gateway(config) as gateway:
        await asyncio.wait_for(gateway.uplink.connected.wait(), 10)
        await drive(gateway.pipeline, STORM, decided=on_decided)
        assert len(decided) == 2 * STORM.incidents
        assert 0 < seen_before_kill < len(decided), "the broker died in the middle of the storm"
        assert broker.running is False  # the second half was decided during the outage
        # Whatever was decided after the kill is waiting in the outbox.
        assert await gateway.backlog() >= len(decided) - STORM.incidents

        await asyncio.sleep(OUTAGE_S - (time.monotonic() - killed_at))
        assert gateway.running  # retrying all along, never crashed
        broker.start()  # same port, same persistence file

        expected = {e.event_id for e in decided}
        await center.wait_for(lambda: expected <= center.received_ids(), 60)
        assert gateway.uplink.stats.connects >= 2
        await _eventually_empty(gateway)

    received = first_copies(center.events)
    assert {e["event_id"] for e in received} == expected
    assert sequence_problems(center.events) == []
    assert reopen_problems(center.events) == []
    assert still_open(center.events) == set()
    # Per ticket: open then resolve, nothing else in this storm.
    assert sum(e["event"] == "open" for e in received) == STORM.incidents


async def _eventually_empty(gateway: Gateway) -> None:
    async with asyncio.timeout(10):
        while await gateway.backlog():
            await asyncio.sleep(0.05)
