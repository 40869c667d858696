"""The site's side of ``acks`` for the center's tests: the gateway's own inbound checks
(gateway/uplink/inbound.py: size, JSON, the signature with the site's command key,
the schema) on a real broker, answering on ``acks-reply`` as `lvgw run` does.

The whole gateway answers in tests/e2e/test_center_e2e.py; here the tickets it knows
are a set, so a test can say which are open."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiomqtt

from drivers.tasks import stop_task
from gateway.signing import Verifier
from gateway.uplink.inbound import Inbound
from tests.realservers import Mosquitto


@dataclass
class SiteGateway:
    open_tickets: set[str]
    taken: list[dict[str, Any]] = field(default_factory=list)  # the acks it acted on
    raw: list[dict[str, Any]] = field(default_factory=list)  # every message, as sent

    async def on_ack(self, body: dict[str, Any]) -> dict[str, Any]:
        if body["ticket_id"] not in self.open_tickets:
            return {"ok": False, "error": f"no open ticket {body['ticket_id']!r}"}
        self.taken.append(body)
        return {"ok": True, "ticket_id": body["ticket_id"], "acked_by": body["by"]}


@contextlib.asynccontextmanager
async def site_gateway(
    broker: Mosquitto, site_id: str, key: bytes | None, open_tickets: set[str]
) -> AsyncIterator[SiteGateway]:
    gateway = SiteGateway(open_tickets)
    inbound = Inbound(gateway.on_ack, {}, Verifier(key) if key is not None else None)
    prefix = f"lvgw/v1/{site_id}/"
    async with aiomqtt.Client(broker.host, broker.port, identifier=f"gw-{site_id}") as mqtt:
        await mqtt.subscribe(prefix + "acks", qos=1)

        async def serve() -> None:
            async for message in mqtt.messages:
                payload = bytes(message.payload)
                gateway.raw.append(json.loads(payload))
                answer = await inbound.handle("acks", payload)
                assert answer is not None
                topic, reply = answer
                await mqtt.publish(prefix + topic, json.dumps(reply).encode(), qos=1)

        task = asyncio.create_task(serve())
        try:
            yield gateway
        finally:
            # Cancelled again until it ends: a cancellation that comes as a reply's
            # PUBACK arrives is lost in aiomqtt's publish (Python 3.11's wait_for,
            # CPython gh-86296), and serve() then waited for the next ack for ever.
            await stop_task(task)
