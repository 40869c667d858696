"""The MQTT uplink: delivers the outbox, keeps the retained status, takes acks and commands.

Topics (docs/mqtt.md) under ``lvgw/v1/<site>/``: ``tickets`` (QoS 1), ``status``
(retained; Last Will "offline"), ``acks`` and ``cmd/<name>`` in, ``cmd-reply/<name>``
out. Delivery follows the outbox's protocol (docs/outbox.md): a message leaves the
outbox only after a PUBACK whose reason code says success.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from drivers.backoff import Backoff
from gateway import __version__
from gateway.config.limits import DEFAULT_LIMITS
from gateway.config.site import Mqtt
from gateway.config.types import read_secret_file
from gateway.outbox import MessageClass, Outbox, StoredMessage
from gateway.uplink.client import AckingClient, ClosedBeforeConnack, connect_hint, reason_name
from gateway.uplink.inbound import Replies, reply_topic_for

log = logging.getLogger("lvgw.uplink")

WINDOW = 50  # messages in flight at once
# What goes to the broker: tickets and control messages; the metric class belongs to
# the InfluxDB sink (its batches wait there while InfluxDB is away).
MQTT_CLASSES = (MessageClass.TICKET, MessageClass.CONTROL)
SESSION_EXPIRY = 7 * 24 * 3600  # the broker keeps our session (queued acks) a week
STATUS_EVERY = 60.0
DEGRADED_CHECK_EVERY = 1.0
MAX_INBOUND_BYTES = 64 * 1024
MAX_BESIDE = 4  # slow inbound commands answered at once; more wait their turn in order
MAX_TOPIC_BYTES = 65_535  # MQTT's limit on a topic name (UTF-8)
# Nagle's algorithm holds a small packet back while an earlier one is unacknowledged:
# measured 40-90 ms added to a ticket (or a reply) that follows another. Off.
NO_DELAY = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

# An inbound message handler: (topic suffix after the site prefix, payload) -> a reply
# (topic suffix and JSON body) or None.
InboundHandler = Callable[[str, bytes], Awaitable[tuple[str, dict[str, Any]] | None]]


def topic_prefix(site_id: str) -> str:
    return f"lvgw/v1/{site_id}/"


def tls_context(settings: Mqtt) -> ssl.SSLContext | None:
    if settings.tls is None:
        return None
    context = ssl.create_default_context(cafile=str(settings.tls.ca) if settings.tls.ca else None)
    if settings.tls.cert and settings.tls.key:
        context.load_cert_chain(str(settings.tls.cert), str(settings.tls.key))
    return context


@dataclass(slots=True)
class UplinkStats:
    connected: bool = False
    protocol: str = ""
    delivered: int = 0
    refused: int = 0  # PUBACKs with a failure reason code
    last_refusal: str = ""
    connects: int = 0
    last_error: str = ""


class MqttUplink:
    """One long-lived connection to the service center's broker."""

    def __init__(
        self,
        settings: Mqtt,
        site_id: str,
        outbox: Outbox,
        inbound: InboundHandler | None = None,
        backoff: Backoff | None = None,
        inbound_queue: int = DEFAULT_LIMITS.mqtt_inbound_queue,
    ) -> None:
        self.settings = settings
        # Messages received and not yet handled; past it the broker's flood is dropped
        # (aiomqtt's queue is unbounded otherwise: 4,000 acks of 60 kB took 700 MB).
        self.inbound_queue = inbound_queue
        self.site_id = site_id
        self.outbox = outbox
        self.inbound = inbound
        self.backoff = backoff or Backoff(0.5, 60.0, jitter=1.0)
        self.refusal_backoff = Backoff(1.0, 300.0, jitter=1.0)
        self.prefix = topic_prefix(site_id)
        self.connected = asyncio.Event()
        self.started = time.monotonic()
        self.started_at = datetime.now(UTC)
        self.stats = UplinkStats()
        self.protocol = aiomqtt.ProtocolVersion.V5
        self._version_known = False  # a connection with self.protocol has worked
        self._tried_311 = False
        self._stopping = False
        # Inbound topics (suffixes) whose answers take long and run beside the others.
        self.beside: frozenset[str] = frozenset()
        # The agent's parts being restarted (gateway/supervisor.py), for the status.
        self.degraded: Callable[[], list[str]] = list
        # The retained health (docs/mqtt.md, "Health"): the latest document the agent
        # set, the last one published and when (loop time), across connections.
        self.health_every = STATUS_EVERY
        self._health: dict[str, Any] | None = None
        self._health_published: dict[str, Any] | None = None
        self._health_at = -math.inf

    # -- status ------------------------------------------------------------------

    async def status_body(self, state: str, reason: str = "") -> bytes:
        body: dict[str, object] = {"state": state, "site": self.site_id, "version": __version__}
        if state == "online":
            stats = await self.outbox.stats()
            body["started_at"] = self.started_at.isoformat(timespec="seconds")
            body["uptime_s"] = round(time.monotonic() - self.started)
            body["backlog"] = {str(c): b.messages for c, b in stats.backlog.items()}
            body["refused"] = self.stats.refused
            body["failing"] = stats.failing  # waiting messages the broker refused
            body["degraded"] = self.degraded()
            if self.stats.last_refusal:
                body["last_refusal"] = self.stats.last_refusal
        if reason:
            body["reason"] = reason
        return json.dumps(body).encode()

    def set_health(self, health: dict[str, Any]) -> None:
        """The site's health now (without a time); published when it differs from the
        last published, at most once per ``health_every``."""
        self._health = health

    async def _publish_health(self, client: AckingClient) -> None:
        health, now = self._health, asyncio.get_running_loop().time()
        if health is None or health == self._health_published:
            return
        if now - self._health_at < self.health_every:
            return
        body = {**health, "at": datetime.now(UTC).isoformat(timespec="seconds")}
        await client.publish(self.prefix + "health", json.dumps(body).encode(), 1, True)
        self._health_published, self._health_at = health, now

    def _offline_will(self) -> aiomqtt.Will:
        body = json.dumps(
            {
                "state": "offline",
                "site": self.site_id,
                "version": __version__,
                "reason": "connection lost",
            }
        ).encode()
        return aiomqtt.Will(self.prefix + "status", body, qos=1, retain=True)

    # -- connection --------------------------------------------------------------

    def _client(self) -> AckingClient:
        password = None
        if self.settings.password_file is not None:
            password = read_secret_file(self.settings.password_file).reveal()
        v5 = self.protocol == aiomqtt.ProtocolVersion.V5
        properties = None
        if v5:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = SESSION_EXPIRY
        client = AckingClient(
            self.settings.host,
            self.settings.port,
            username=self.settings.username,
            password=password,
            identifier=self.settings.client_id or f"lvgw-{self.site_id}",
            protocol=self.protocol,
            will=self._offline_will(),
            keepalive=self.settings.keepalive,
            tls_context=tls_context(self.settings),
            properties=properties,
            clean_start=False if v5 else 3,  # resume the session: acks queued while away
            clean_session=None if v5 else False,
            timeout=10,
            max_concurrent_outgoing_calls=WINDOW * 2,
            max_queued_incoming_messages=self.inbound_queue,
            socket_options=(NO_DELAY,),
        )
        # aiomqtt warns on every publish beyond 10 pending; a full window is normal here.
        client.pending_calls_threshold = WINDOW * 2
        return client

    def request_stop(self) -> None:
        """Say that the next cancel of `run` is a stop (call it before cancelling)."""
        self._stopping = True

    async def run(self) -> None:
        """Deliver until cancelled; on cancel, say "offline" and disconnect cleanly."""
        where = f"{self.settings.host}:{self.settings.port}"
        was_down = False
        while True:
            try:
                async with self._client() as client:
                    await self._connected(client, where, was_down)
                    was_down = False
                    try:
                        await self._serve(client)
                    except asyncio.CancelledError:
                        await self._say_offline(client)
                        raise
            except aiomqtt.MqttError as exc:
                if self._stopping:
                    # A cancel that meets a failing connect can surface as the connect's
                    # error (asyncio.wait_for in 3.11 swallows it): stop, do not retry.
                    raise asyncio.CancelledError from exc
                if self._unsupported_protocol(exc):
                    continue
                self.stats.connected = False
                hint = connect_hint(str(exc))
                self.stats.last_error = f"{exc} ({hint})" if hint else str(exc)
                delay = self.backoff.next_delay()
                if not was_down or hint:  # a configuration fault stays visible in the log
                    log.warning(
                        "mqtt down broker=%s error=%r retry_in=%.1fs",
                        where, self.stats.last_error, delay,
                    )  # fmt: skip
                else:
                    log.debug("mqtt still down broker=%s error=%r", where, str(exc))
                was_down = True
                await asyncio.sleep(delay)
            finally:
                self.connected.clear()
                self.stats.connected = False

    async def _serve(self, client: AckingClient) -> None:
        """Deliver, refresh the status and take inbound messages until the link fails."""
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._deliver(client), name="uplink-deliver")
                group.create_task(self._keep_status(client), name="uplink-status")
                group.create_task(self._listen(client), name="uplink-inbound")
        except BaseExceptionGroup as group_error:
            # A lost connection fails every task with an MqttError: report it once.
            mqtt_errors = group_error.subgroup(aiomqtt.MqttError)
            if mqtt_errors is None or mqtt_errors.exceptions is None:
                raise
            raise _first(mqtt_errors) from None

    def _unsupported_protocol(self, exc: BaseException) -> bool:
        """A broker without MQTT v5 refuses it (CONNACK "unacceptable protocol version",
        which a v5 client may only see as the connection closing): try 3.1.1 at once.
        True: connect again now. Once a version has worked with this broker it is kept;
        until then, a 3.1.1 attempt that fails the same way goes back to v5 and the
        usual backoff applies (the cause may be the network, not the version)."""
        code = getattr(exc, "rc", None)
        code = getattr(code, "value", code)
        refused = isinstance(exc, aiomqtt.exceptions.MqttConnectError) and code in (1, 132)
        closed = (
            isinstance(exc, ClosedBeforeConnack)
            and not exc.socket_error
            and not self._version_known
        )
        v5 = aiomqtt.ProtocolVersion.V5
        if self.protocol == v5 and (refused or closed):
            (log.debug if self._tried_311 else log.warning)(
                "broker refused MQTT v5 (%s); trying MQTT 3.1.1", exc
            )
            self._tried_311 = True
            self.protocol = aiomqtt.ProtocolVersion.V311
            return True
        if self.protocol != v5 and closed:
            self.protocol = v5
        return False

    async def _connected(self, client: AckingClient, where: str, resumed: bool) -> None:
        self._version_known = True
        self.backoff.reset()
        self.stats.connects += 1
        self.stats.connected = True
        self.stats.protocol = "5" if self.protocol == aiomqtt.ProtocolVersion.V5 else "3.1.1"
        if self.inbound is not None:
            await client.subscribe(self.prefix + "acks", qos=1)
            await client.subscribe(self.prefix + "cmd/+", qos=1)
        await client.publish(self.prefix + "status", await self.status_body("online"), 1, True)
        self.connected.set()
        log.info(
            "mqtt connected broker=%s protocol=%s resumed=%s", where, self.stats.protocol, resumed
        )

    # -- outbound ----------------------------------------------------------------

    async def _deliver(self, client: AckingClient) -> None:
        # Each window is settled (acked or failed) before the next is fetched, so every
        # fetch starts from the head of the outbox. A cursor of the highest id handed
        # out would skip older messages of a lower class: `pending` hands out tickets
        # first, and a metric stored before the last ticket has a lower id.
        head_failing = False
        while True:
            await self.outbox.wait_for_items(classes=MQTT_CLASSES)
            # After a refusal, one at a time until the head goes through: order is kept.
            batch = await self.outbox.pending(1 if head_failing else WINDOW, classes=MQTT_CLASSES)
            if not batch:
                continue
            codes = await asyncio.gather(*(self._publish(client, m) for m in batch))
            accepted = [m.id for m, code in zip(batch, codes, strict=True) if code < 0x80]
            refused = [(m, code) for m, code in zip(batch, codes, strict=True) if code >= 0x80]
            if accepted:
                await self.outbox.ack(accepted)
                self.stats.delivered += len(accepted)
            if not refused:
                if head_failing:
                    log.info("broker accepts again topic=%s", batch[0].topic)
                    await self._publish_status(client)  # the refusal is over
                head_failing = False
                self.refusal_backoff.reset()
                continue
            # The first refused message is the head the others wait behind: it alone is
            # recorded as failing (so the status's count falls to 0 once it goes through).
            message, code = refused[0]
            why = f"broker refused publish to {message.topic}: {reason_name(code)} (0x{code:02x})"
            await self.outbox.fail(message.id, why)
            self.stats.refused += len(refused)
            self.stats.last_refusal = why
            if not head_failing:
                log.error("%s; kept in the outbox and retried", self.stats.last_refusal)
                await self._publish_status(client)  # the service center sees the refusal
            head_failing = True
            await asyncio.sleep(self.refusal_backoff.next_delay())

    async def _publish(self, client: AckingClient, message: StoredMessage) -> int:
        return await client.publish_acked(
            message.topic, message.payload, message.qos, message.retain
        )

    async def _publish_status(self, client: AckingClient) -> None:
        await client.publish(self.prefix + "status", await self.status_body("online"), 1, True)

    async def _keep_status(self, client: AckingClient) -> None:
        """The retained status again every STATUS_EVERY, and at once when the list of
        degraded parts changes."""
        loop = asyncio.get_running_loop()
        last_at, last_degraded = loop.time(), self.degraded()
        while True:
            await self._publish_health(client)
            await asyncio.sleep(DEGRADED_CHECK_EVERY)
            degraded = self.degraded()
            if degraded != last_degraded or loop.time() - last_at >= STATUS_EVERY:
                await self._publish_status(client)
                last_at, last_degraded = loop.time(), degraded

    async def _say_offline(self, client: AckingClient) -> None:
        try:
            async with asyncio.timeout(3):
                body = await self.status_body("offline", "shutdown")
                await client.publish(self.prefix + "status", body, 1, True)
        except (aiomqtt.MqttError, TimeoutError) as exc:
            log.warning("could not publish offline status: %s", exc)

    # -- inbound -----------------------------------------------------------------

    async def _listen(self, client: AckingClient) -> None:
        """Answer inbound messages in order; the slow ones (``beside``: a report) run
        beside the others, a few at a time, so an acknowledgement never waits for a
        report to be built."""
        if self.inbound is None:
            return
        async with asyncio.TaskGroup() as group:  # cancelled with the connection
            running: set[asyncio.Task[None]] = set()
            async for message in client.messages:
                topic = str(message.topic)
                if not topic.startswith(self.prefix):
                    continue
                suffix = topic[len(self.prefix) :]
                payload = message.payload if isinstance(message.payload, bytes) else b""
                payload = payload[: MAX_INBOUND_BYTES + 1]
                if suffix in self.beside and len(running) < MAX_BESIDE:
                    task = group.create_task(self._answer(client, suffix, payload))
                    running.add(task)
                    task.add_done_callback(running.discard)
                else:
                    await self._answer(client, suffix, payload)

    async def _answer(self, client: AckingClient, suffix: str, payload: bytes) -> None:
        assert self.inbound is not None
        try:
            reply = await self.inbound(suffix, payload)
        except Exception:  # a handler bug must not take the uplink down
            log.exception("inbound handler failed topic=%s", _short(self.prefix + suffix))
            reply = (reply_topic_for(suffix), {"ok": False, "error": "internal error"})
        if reply is not None:
            await self._replies(client, *reply)

    async def _replies(self, client: AckingClient, suffix: str, body: dict[str, Any]) -> None:
        """A reply, or each message of one in several (``Replies``), then its ``then``."""
        try:
            await self._reply(client, suffix, body)
            for more in body.rest if isinstance(body, Replies) else ():
                await self._reply(client, suffix, more)
        finally:
            if isinstance(body, Replies) and body.then is not None:
                body.then()

    async def _reply(self, client: AckingClient, suffix: str, body: dict[str, Any]) -> None:
        """Publish a reply, unless its topic cannot be one: the reply topic of a command
        name near MQTT's 65,535-byte limit is longer than the limit."""
        topic = self.prefix + suffix
        if len(topic.encode()) > MAX_TOPIC_BYTES:
            log.warning("no reply: its topic would exceed MQTT's limit topic=%s", _short(topic))
            return
        try:
            await client.publish(topic, json.dumps(body).encode(), 1, False)
        except ValueError as exc:  # paho refuses a topic it cannot send
            log.warning("no reply to topic=%s: %s", _short(topic), exc)


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else f"{text[:limit]}...({len(text)} chars)"


def _first(group: BaseExceptionGroup[aiomqtt.MqttError]) -> aiomqtt.MqttError:
    first = group.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first
