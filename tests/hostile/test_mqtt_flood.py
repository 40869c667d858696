"""Finding 6 and the acceptance: a flood of inbound MQTT messages.

Before, aiomqtt's queue of received messages had no bound: 4,000 acks of 60 kB took
a gateway from 70 to 803 MB (never returned), and every refusal was logged in full
(a 10,000-message flood wrote 76 MB of log). Now the queue holds
``limits.mqtt_inbound_queue`` messages (the rest are dropped), refusals are logged
shortened and rate-limited, and the gateway keeps polling and publishing its status.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiomqtt
import pytest

from tests.hostile.gateway_process import (
    MB,
    PREFIX,
    RSS_GROWTH_LIMIT,
    gateway_under_attack,
    still_serving,
    write_site,
)
from tests.realservers import Mosquitto, Snmpd

pytestmark = pytest.mark.integration

FLOOD = 4_000
BATCH = 200  # publishes in flight at once: the flood arrives as fast as the broker sends
BIG_ACK = json.dumps({"ticket_id": "t" * 150, "action": "ack", "by": "x" * 60_000}).encode()


def topic(n: int) -> str:
    return "acks" if n % 4 else f"cmd/maintenance{n % 7}"


async def test_a_flood_of_large_acks_keeps_memory_and_log_bounded(
    tmp_path: Path, mosquitto: Mosquitto, snmpd: Snmpd
) -> None:
    site = write_site(tmp_path, mosquitto, snmpd)
    async with gateway_under_attack(site, mosquitto) as (gateway, observed):
        baseline = gateway.rss()
        log_before = len(gateway.log_text())
        async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="flood") as attacker:
            attacker.pending_calls_threshold = BATCH  # aiomqtt warns above 10 by default
            for start in range(0, FLOOD, BATCH):
                await asyncio.gather(
                    *(
                        attacker.publish(PREFIX + topic(n), BIG_ACK, qos=n % 2)
                        for n in range(start, start + BATCH)
                    )
                )
                gateway.rss()
        for _ in range(50):  # while the gateway works through what reached it
            gateway.rss()
            await asyncio.sleep(0.1)
        grown = gateway.peak_rss - baseline
        logged = len(gateway.log_text()) - log_before
        print(f"\nflood of {FLOOD} x {len(BIG_ACK)} B: RSS +{grown / MB:.1f} MB, log +{logged} B")
        assert grown < RSS_GROWTH_LIMIT, f"RSS grew {grown / MB:.0f} MB"
        assert logged < 1 * MB, f"{logged} bytes of log"
        await still_serving(gateway, observed)
