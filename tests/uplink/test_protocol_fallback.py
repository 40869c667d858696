"""A broker that speaks only MQTT 3.1.1 refuses a v5 CONNECT: the uplink falls back.

No broker here lacks v5 (mosquitto 2 has it), so a scripted TCP peer plays the old
broker: it answers a v5 CONNECT with the 3.1.1 CONNACK "unacceptable protocol
version" and records the protocol level of every CONNECT it gets.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from drivers.backoff import Backoff
from drivers.tasks import stop_task
from gateway.config.site import Mqtt
from gateway.outbox import Outbox
from gateway.uplink import MqttUplink

pytestmark = pytest.mark.integration

CONNACK_REFUSED_PROTOCOL = bytes([0x20, 0x02, 0x00, 0x01])  # 3.1.1: return code 1


async def test_a_v5_refusal_makes_the_uplink_speak_3_1_1(tmp_path: Path) -> None:
    levels: list[int] = []
    second_connect = asyncio.Event()

    async def old_broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            assert (await reader.readexactly(1))[0] == 0x10, "CONNECT first"
            length, shift = 0, 0
            while True:  # the remaining length, a variable-length integer
                byte = (await reader.readexactly(1))[0]
                length |= (byte & 0x7F) << shift
                shift += 7
                if byte < 0x80:
                    break
            body = await reader.readexactly(length)
            levels.append(body[6])  # after the protocol name "MQTT": the level byte
            if body[6] == 5:
                writer.write(CONNACK_REFUSED_PROTOCOL)
                await writer.drain()
            else:
                second_connect.set()
        finally:
            writer.close()

    server = await asyncio.start_server(old_broker, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with Outbox(tmp_path / "outbox.db") as outbox:
        uplink = MqttUplink(
            Mqtt(host="127.0.0.1", port=port), "site-x", outbox, backoff=Backoff(0.05, 0.1)
        )
        task = asyncio.create_task(uplink.run(), name="test-uplink")
        try:
            await asyncio.wait_for(second_connect.wait(), 10)
        finally:
            uplink.request_stop()
            await stop_task(task)
            server.close()
            await server.wait_closed()
    assert levels[:2] == [5, 4]  # v5 first; after the refusal, 3.1.1 (protocol level 4)
    assert uplink.stats.protocol in ("", "3.1.1")
