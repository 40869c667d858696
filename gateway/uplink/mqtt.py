"""The MQTT uplink: delivers queued messages, keeps the retained status, reconnects.

Topics (docs/mqtt.md): ``lvgw/v1/<site>/tickets`` (QoS 1), ``.../status``
(retained; Last Will "offline").
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from datetime import UTC, datetime

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gateway import __version__
from gateway.config.site import Mqtt
from gateway.config.types import read_secret_file
from gateway.uplink.backoff import Backoff
from gateway.uplink.queue import DeliveryQueue

log = logging.getLogger("lvgw.uplink")

BATCH = 100


def topic_prefix(site_id: str) -> str:
    return f"lvgw/v1/{site_id}/"


def tls_context(settings: Mqtt) -> ssl.SSLContext | None:
    if settings.tls is None:
        return None
    context = ssl.create_default_context(cafile=str(settings.tls.ca) if settings.tls.ca else None)
    if settings.tls.cert and settings.tls.key:
        context.load_cert_chain(str(settings.tls.cert), str(settings.tls.key))
    return context


class MqttUplink:
    """One long-lived connection to the service center's broker."""

    def __init__(
        self,
        settings: Mqtt,
        site_id: str,
        queue: DeliveryQueue,
        backoff: Backoff | None = None,
    ) -> None:
        self.settings = settings
        self.site_id = site_id
        self.queue = queue
        self.backoff = backoff or Backoff()
        self.prefix = topic_prefix(site_id)
        self.connected = asyncio.Event()
        self.started = time.monotonic()
        self.started_at = datetime.now(UTC)
        self.delivered = 0
        self._client: aiomqtt.Client | None = None

    def _status(self, state: str, reason: str = "") -> bytes:
        body: dict[str, object] = {"state": state, "site": self.site_id, "version": __version__}
        if state == "online":
            body["started_at"] = self.started_at.isoformat(timespec="seconds")
            body["uptime_s"] = round(time.monotonic() - self.started)
        if reason:
            body["reason"] = reason
        return json.dumps(body).encode()

    def _client_for(self) -> aiomqtt.Client:
        password = None
        if self.settings.password_file is not None:
            password = read_secret_file(self.settings.password_file).reveal()
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        return aiomqtt.Client(
            self.settings.host,
            self.settings.port,
            username=self.settings.username,
            password=password,
            identifier=self.settings.client_id or f"lvgw-{self.site_id}",
            protocol=aiomqtt.ProtocolVersion.V5,
            will=aiomqtt.Will(
                self.prefix + "status",
                self._status("offline", "connection lost"),
                qos=1,
                retain=True,
            ),
            keepalive=self.settings.keepalive,
            tls_context=tls_context(self.settings),
            properties=properties,
            timeout=10,
        )

    async def run(self) -> None:
        """Deliver until cancelled; on cancel, say "offline" and disconnect cleanly."""
        was_down = False
        where = f"{self.settings.host}:{self.settings.port}"
        while True:
            try:
                async with self._client_for() as client:
                    self._client = client
                    self.backoff.reset()
                    await client.publish(self.prefix + "status", self._status("online"), 1, True)
                    self.connected.set()
                    log.info("mqtt connected broker=%s resumed=%s", where, was_down)
                    was_down = False
                    try:
                        await self._deliver(client)
                    except asyncio.CancelledError:
                        await self._say_offline(client)
                        raise
            except aiomqtt.MqttError as exc:
                self.connected.clear()
                delay = self.backoff.next_delay()
                if not was_down:
                    log.warning(
                        "mqtt down broker=%s error=%r retry_in=%.1fs", where, str(exc), delay
                    )
                else:
                    log.debug("mqtt still down broker=%s error=%r", where, str(exc))
                was_down = True
                await asyncio.sleep(delay)
            finally:
                self._client = None
                self.connected.clear()

    async def _deliver(self, client: aiomqtt.Client) -> None:
        while True:
            batch = await self.queue.pending(BATCH)
            if not batch:
                await self.queue.wait_for_items()
                continue
            for message in batch:
                await client.publish(message.topic, message.payload, message.qos, message.retain)
                await self.queue.ack([message.id])
                self.delivered += 1

    async def _say_offline(self, client: aiomqtt.Client) -> None:
        try:
            async with asyncio.timeout(3):
                await client.publish(
                    self.prefix + "status", self._status("offline", "shutdown"), 1, True
                )
        except (aiomqtt.MqttError, TimeoutError) as exc:
            log.warning("could not publish offline status: %s", exc)
