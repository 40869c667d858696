"""Finding 1: one MQTT message stopped the gateway. A ``cmd/<name>`` topic near MQTT's
65,535-byte limit made the reply topic too long; the ValueError escaped the uplink and
ended the agent (exit 1, repeatable every 5 s under systemd)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiomqtt
import pytest

from gateway.config.load import load_config
from tests.delivery.gateway import Gateway
from tests.delivery.site import write_site
from tests.realservers import Mosquitto

pytestmark = pytest.mark.integration

SITE = "site-t"
PREFIX = f"lvgw/v1/{SITE}/"
MAX_TOPIC = 65_535


async def test_a_command_topic_at_the_limit_does_not_stop_the_uplink(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    mqtt = f"{{host: 127.0.0.1, port: {mosquitto.port}}}"
    config = load_config(write_site(tmp_path, SITE, mqtt, devices=1))
    async with (
        Gateway(config) as gateway,
        aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="desk") as desk,
    ):
        await asyncio.wait_for(gateway.uplink.connected.wait(), 10)
        await desk.subscribe(PREFIX + "cmd-reply/#", qos=1)
        await desk.subscribe(PREFIX + "acks-reply", qos=1)
        # The longest topic MQTT allows: its reply topic would be 6 bytes longer.
        name = "x" * (MAX_TOPIC - len(PREFIX + "cmd/"))
        await desk.publish(PREFIX + "cmd/" + name, b"{}", qos=1)
        await desk.publish(PREFIX + "cmd/ping", b"{}", qos=1)
        message = await asyncio.wait_for(anext(aiter(desk.messages)), 10)
        # The next message is answered as usual: the uplink is still there.
        assert str(message.topic) == PREFIX + "cmd-reply/ping"
        assert "unknown command 'ping'" in json.loads(bytes(message.payload))["error"]
        assert gateway.running
        assert gateway.uplink.stats.connects == 1
