"""Back to the site: an acknowledgement, a technician's arrival or departure, sent to
the gateway on the site's ``acks`` topic (docs/mqtt.md, "Acknowledgements").

`lvgw-center ack|arrive|depart` and the HTTP callback (center/web/) both come here:
the ticket is looked up in the ledger (its site, and whether it is still open), the
message is built as the gateway's inbound schema wants it, signed with the site's
command key when CENTER.yaml names one (gateway/signing.py), published at QoS 1 on a
connection of its own, and the gateway's reply on ``acks-reply`` (matched by
``request_id``) is awaited for a while. A gateway that is offline gets the message
from the broker when it is back (its session is persistent): no reply in time is not
a failure.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiomqtt
import jsonschema

from center import broker
from center.config import CenterFile
from gateway.signing import load_key, sign
from gateway.uplink.inbound import ACK_SCHEMA

# The verbs of the command line and the callback's path -> the action on ``acks``.
ACTIONS = {"ack": "ack", "arrive": "arrived", "depart": "departed"}
MAX_WAIT = 60.0


class Refused(Exception):
    """The center will not send this (unknown or resolved ticket, bad field): why."""

    def __init__(self, message: str, *, unknown: bool = False) -> None:
        super().__init__(message)
        self.unknown = unknown


@dataclass(frozen=True, slots=True)
class Sent:
    site_id: str
    message: dict[str, Any]  # as published (signed when the site has a key)
    reply: dict[str, Any] | None  # the gateway's, or None when none came in time

    @property
    def request_id(self) -> str:
        return str(self.message["request_id"])


def build_message(
    ticket_id: str,
    verb: str,
    by: str,
    note: str | None = None,
    at: str | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The ``acks`` message, checked against the gateway's own inbound schema."""
    if verb not in ACTIONS:
        raise Refused(f"unknown action {verb!r} (known: {', '.join(ACTIONS)})")
    message: dict[str, Any] = {"ticket_id": ticket_id, "action": ACTIONS[verb], "by": by}
    if note is not None:
        message["note"] = note
    if at is not None:
        if verb == "ack":
            raise Refused("at: only an arrival or a departure has a time")
        _check_time(at)
        message["at"] = at
    message["request_id"] = request_id or f"lvgw-center-{secrets.token_hex(8)}"
    try:
        jsonschema.validate(message, ACK_SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "message"
        raise Refused(f"{where}: {exc.message}") from None
    return message


def _check_time(at: str) -> None:
    try:
        parsed = datetime.fromisoformat(at)
    except ValueError:
        raise Refused(f"at: not an RFC 3339 time: {at[:40]!r}") from None
    if parsed.tzinfo is None:
        raise Refused(f"at: no UTC offset (RFC 3339: Z or +08:00): {at[:40]!r}")


def check_ticket(ticket_id: str, found: tuple[str, str] | None) -> str:
    """The site of a ticket the ledger has and that is not resolved, or `Refused`."""
    if found is None:
        raise Refused(
            f"ticket {ticket_id!r} is not in the ledger (lvgw-center tickets lists them)",
            unknown=True,
        )
    site_id, state = found
    if state == "resolved":
        raise Refused(f"ticket {ticket_id!r} of site {site_id} is resolved already")
    return site_id


def command_key(center: CenterFile, site_id: str) -> bytes | None:
    """The site's command key when CENTER.yaml names one (checked at load)."""
    for site in center.sites:
        if site.id == site_id and site.command_key_file is not None:
            return load_key(Path(site.command_key_file))
    return None


async def send(center: CenterFile, site_id: str, message: dict[str, Any], wait: float) -> Sent:
    """Publish ``message`` to the site's ``acks`` (signed when it has a key) and await
    the reply up to ``wait`` seconds. Raises aiomqtt.MqttError when the broker cannot
    be reached or does not take the message."""
    key = command_key(center, site_id)
    published = sign(message, key) if key is not None else dict(message)
    prefix = f"lvgw/v1/{site_id}/"
    async with broker.transient_client(center.broker, "acks") as mqtt:
        if wait > 0:
            await mqtt.subscribe(prefix + "acks-reply", qos=1)
        await mqtt.publish(prefix + "acks", json.dumps(published).encode(), qos=1)
        reply = await _reply(mqtt, published["request_id"], min(wait, MAX_WAIT))
    return Sent(site_id, published, reply)


async def _reply(mqtt: aiomqtt.Client, request_id: str, wait: float) -> dict[str, Any] | None:
    if wait <= 0:
        return None
    try:
        async with asyncio.timeout(wait):
            async for message in mqtt.messages:
                try:
                    body = json.loads(bytes(message.payload))
                except (ValueError, TypeError, RecursionError):
                    continue
                if isinstance(body, dict) and body.get("request_id") == request_id:
                    return body
    except TimeoutError:
        pass
    return None


def describe(verb: str, ticket_id: str, sent: Sent) -> tuple[bool, str]:
    """Whether the gateway took it (or may still), and a line that says so."""
    what = {"ack": "acknowledgement", "arrive": "arrival", "depart": "departure"}[verb]
    signed = "signed" if "sig" in sent.message else "unsigned"
    head = f"ticket {ticket_id} (site {sent.site_id}): {what} by {sent.message['by']}"
    if sent.reply is None:
        return True, (
            f"{head} sent ({signed}, request {sent.request_id}); no reply yet: the gateway"
            " takes it from the broker when it is online"
        )
    if sent.reply.get("ok"):
        return True, f"{head} taken by the gateway ({signed})"
    return False, f"{head} refused by the gateway: {sent.reply.get('error')}"
