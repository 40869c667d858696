"""A small reference consumer for the service center: arriving tickets with their clocks.

``lvgw desk --broker HOST:PORT [--site ID]`` subscribes to ``lvgw/v1/<site>/tickets``
and ``.../status`` and prints one block per ticket event (with the response, on-site
and loaner deadlines counting down) and one line per status change. With ``ack_as``
it also acknowledges every unacknowledged open ticket it shows, on the site's
``acks`` topic, and prints the gateway's reply from ``acks-reply``.

It does what docs/mqtt.md asks of a consumer: a persistent session (fixed client id,
clean start off), QoS 1, and deduplication on ``event_id`` (delivery is at least
once). It reconnects by itself when the broker goes away.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gateway import signing

LEVEL_NAMES = {1: "L1 system down", 2: "L2 major", 3: "L3 minor", 4: "L4 user/small"}
SESSION_EXPIRY_S = 24 * 3600  # tickets queued while the desk is closed, up to a day
REMEMBERED_EVENTS = 10_000  # event ids kept for deduplication
RECONNECT_S = 2.0
NO_DELAY = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

Event = dict[str, Any]


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _left(due: datetime | None, now: datetime) -> str:
    if due is None:
        return "no visit due"
    seconds = int((due - now).total_seconds())
    sign = "" if seconds >= 0 else "OVERDUE by "
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{sign}{hours}h{rest // 60:02d}m" if hours else f"{sign}{rest // 60}m{rest % 60:02d}s"


def format_ticket(event: Event, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    kind = str(event.get("event", "?")).upper()
    if kind == "REMINDER" and event.get("reminder_no"):
        onsite = event.get("reminder_kind") == "onsite"  # nobody on site by the deadline
        kind = f"{'ONSITE' if onsite else 'REMIND'}#{event['reminder_no']}"
    level = LEVEL_NAMES.get(int(event.get("severity", 0)), "?")
    device = event.get("device", {}).get("id", "?")
    head = f"{now:%H:%M:%S}  {kind:<8} {level:<15} {device:<12} {event.get('title', '')}"
    ticket = f"ticket {event.get('ticket_id')} #{event.get('seq')}"
    if kind == "RESOLVE":
        opened, resolved = _when(event.get("occurred_at")), _when(event.get("resolved_at"))
        took = f" after {_left(resolved, opened).strip()}" if opened and resolved else ""
        return f"{head}\n          resolved{took}{_on_time(event.get('on_time'))}; {ticket}"
    response = _when(event.get("response_due"))
    onsite = _when(event.get("onsite_due"))
    loaner = _when(event.get("loaner_due"))
    acked = event.get("acknowledged")
    answer = (
        f"acknowledged by {acked.get('by')}"
        if isinstance(acked, dict)
        else f"respond within {_left(response, now)}"
    )
    arrived = _when(event.get("arrived_at"))
    visit = (
        f"technician on site since {arrived:%H:%M}"
        if arrived is not None
        else f"on site within {_left(onsite, now)}"
    )
    lines = f"{head}\n          {answer}, {visit}"
    if loaner is not None:
        lines += f", loaner within {_left(loaner, now)}"
    return f"{lines}; {ticket}; fault {event.get('fault', {}).get('code')}"


def _on_time(on_time: object) -> str:
    """`` (on time: response yes, on site no)`` from a resolve's ``on_time``."""
    if not isinstance(on_time, dict):
        return ""
    words = {True: "yes", False: "NO", None: "n/a"}
    response, onsite = words.get(on_time.get("response")), words.get(on_time.get("onsite"))
    return f" (on time: response {response}, on site {onsite})"


class Desk:
    """What the desk knows: events seen (for deduplication) and the tickets it acked."""

    def __init__(self, ack_as: str | None = None, key: bytes | None = None) -> None:
        self.ack_as = ack_as
        self.key = key  # the site's command key: acknowledgements are signed with it
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.acked: set[str] = set()

    def is_new(self, event: Event) -> bool:
        """False for a second copy of an event (at-least-once delivery)."""
        event_id = str(event.get("event_id", ""))
        if event_id in self.seen:
            return False
        self.seen[event_id] = None
        if len(self.seen) > REMEMBERED_EVENTS:
            self.seen.popitem(last=False)
        return True

    def ack_for(self, event: Event) -> tuple[str, bytes] | None:
        """The acknowledgement to send for ``event`` (topic, payload), if any."""
        ticket = event.get("ticket_id")
        site = event.get("site", {}).get("id")
        if self.ack_as is None or not isinstance(ticket, str) or not isinstance(site, str):
            return None
        if event.get("event") == "resolve":
            self.acked.discard(ticket)
            return None
        # A rise of the level clears the acknowledgement: the new level needs its own.
        severity, previous = event.get("severity", 5), event.get("previous_severity") or 5
        rose = event.get("event") == "update" and previous > severity
        if event.get("acknowledged") or (ticket in self.acked and not rose):
            return None
        self.acked.add(ticket)
        body = {"ticket_id": ticket, "action": "ack", "by": self.ack_as, "request_id": ticket}
        if self.key is not None:
            body = signing.sign(body, self.key)
        return f"lvgw/v1/{site}/acks", json.dumps(body).encode()


def format_reply(body: Event) -> str:
    ticket = body.get("ticket_id") or body.get("request_id") or "?"
    if body.get("ok"):
        return f"          ticket {ticket} acknowledged by {body.get('acked_by')}"
    return f"          acknowledgement of {ticket} refused: {body.get('error')}"


def _client(host: str, port: int, identifier: str) -> aiomqtt.Client:
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = SESSION_EXPIRY_S
    return aiomqtt.Client(
        host,
        port,
        identifier=identifier,
        protocol=aiomqtt.ProtocolVersion.V5,
        clean_start=False,
        properties=properties,
        socket_options=(NO_DELAY,),
    )


async def watch(
    host: str,
    port: int,
    site: str,
    out: TextIO,
    identifier: str = "lvgw-desk",
    ack_as: str | None = None,
    key: bytes | None = None,
) -> None:
    """Print tickets and status changes of ``site`` ("+" for every site) until cancelled;
    with ``ack_as``, acknowledge every open ticket in that name (signed with ``key``,
    the site's command key, when given)."""
    desk = Desk(ack_as, key)

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    down = False
    while True:
        try:
            async with _client(host, port, identifier) as client:
                if down:
                    say(f"{datetime.now(UTC):%H:%M:%S}  broker {host}:{port} is back")
                down = False
                await _serve(client, site, desk, say)
        except aiomqtt.MqttError as exc:
            if not down:
                say(f"{datetime.now(UTC):%H:%M:%S}  broker {host}:{port} unreachable ({exc})")
            down = True
            await asyncio.sleep(RECONNECT_S)


async def _serve(client: aiomqtt.Client, site: str, desk: Desk, say: Callable[[str], None]) -> None:
    await client.subscribe(f"lvgw/v1/{site}/tickets", qos=1)
    await client.subscribe(f"lvgw/v1/{site}/status", qos=1)
    states: dict[str, str] = {}
    if desk.ack_as is not None:
        await client.subscribe(f"lvgw/v1/{site}/acks-reply", qos=1)
    async for message in client.messages:
        try:
            body = json.loads(bytes(message.payload))
        except (ValueError, TypeError):
            say(f"(unreadable message on {message.topic})")
            continue
        if not isinstance(body, dict):
            say(f"(unexpected message on {message.topic})")
            continue
        topic = str(message.topic)
        if topic.endswith("/status"):
            state = body.get("state", "?")
            if states.get(topic) != state:  # the status is republished every minute
                states[topic] = state
                say(f"{datetime.now(UTC):%H:%M:%S}  gateway {body.get('site')} is {state}")
        elif topic.endswith("/acks-reply"):
            say(format_reply(body))
        elif desk.is_new(body):
            say(format_ticket(body))
            ack = desk.ack_for(body)
            if ack is not None:
                await client.publish(*ack, qos=1)
