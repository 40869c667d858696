"""A report takes a while to build: the uplink answers acknowledgements meanwhile
(real mosquitto, the real uplink; the report held back by the test)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from drivers.tasks import stop_task
from gateway.config.site import Mqtt
from gateway.outbox import Outbox
from gateway.uplink import MqttUplink
from gateway.uplink.inbound import reply_topic_for
from tests.realservers import Mosquitto

pytestmark = pytest.mark.integration
PREFIX = "lvgw/v1/site-x/"


async def test_an_ack_is_answered_while_a_report_is_built(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    report_may_finish = asyncio.Event()
    handled: list[str] = []

    async def inbound(suffix: str, payload: bytes) -> tuple[str, dict[str, Any]]:
        handled.append(suffix)
        if suffix == "cmd/report":
            await report_may_finish.wait()
        return reply_topic_for(suffix), {"ok": True, "request_id": json.loads(payload)["r"]}

    async with Outbox(tmp_path / "outbox.db") as outbox:
        uplink = MqttUplink(Mqtt(host="127.0.0.1", port=mosquitto.port), "site-x", outbox, inbound)
        uplink.beside = frozenset({"cmd/report"})
        task = asyncio.create_task(uplink.run())
        try:
            await asyncio.wait_for(uplink.connected.wait(), 10)
            async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="desk") as desk:
                await desk.subscribe(PREFIX + "acks-reply", qos=1)
                await desk.subscribe(PREFIX + "cmd-reply/report", qos=1)
                await desk.publish(PREFIX + "cmd/report", json.dumps({"r": "report"}), qos=1)
                await desk.publish(PREFIX + "acks", json.dumps({"r": "ack"}), qos=1)
                replies: list[str] = []
                async with asyncio.timeout(10):
                    async for message in desk.messages:
                        replies.append(json.loads(bytes(message.payload))["request_id"])
                        if replies == ["ack"]:
                            report_may_finish.set()  # the ack came first: finish the report
                        if len(replies) == 2:
                            break
            assert replies == ["ack", "report"]
            assert handled == ["cmd/report", "acks"]
        finally:
            uplink.request_stop()
            await stop_task(task)
