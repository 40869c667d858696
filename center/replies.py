"""The gateways' answers to what the center sent: ``acks-reply`` and ``cmd-reply/<name>``.

Every message on ``acks`` and ``cmd/<name>`` gets one (docs/mqtt.md, "Errors"):
``{"ok": true, ...}`` or ``{"ok": false, "error": "..."}``, with the ``request_id``
the center gave. A reply the center cannot read becomes a `Rejection`, kept in the
ledger with the reason like a bad ticket event; nothing here raises on input.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from center.events import Rejection, site_of

MAX_REPLY_BYTES = 64 * 1024  # a reply is a few hundred bytes; its error at most 300 chars
_TEXT_LIMIT = 300


@dataclass(frozen=True, slots=True)
class Reply:
    key: str  # the same message sent again by the broker has the same key
    site_id: str
    topic_kind: str  # "acks" or "cmd/<name>": what the reply answers
    request_id: str | None
    ticket_id: str | None
    ok: bool
    error: str | None
    payload: str


def topic_kind(topic: str) -> str | None:
    """``acks`` of ``lvgw/v1/S/acks-reply``, ``cmd/NAME`` of ``lvgw/v1/S/cmd-reply/NAME``."""
    parts = topic.split("/")
    if site_of(topic) is None:
        return None
    if len(parts) == 4 and parts[3] == "acks-reply":
        return "acks"
    if len(parts) == 5 and parts[3] == "cmd-reply" and parts[4]:
        return f"cmd/{parts[4]}"
    return None


def parse_reply(topic: str, payload: bytes) -> Reply | Rejection:
    site_id, kind = site_of(topic), topic_kind(topic)
    if site_id is None or kind is None:
        return Rejection(topic, payload[:MAX_REPLY_BYTES], "not a reply topic")
    if len(payload) > MAX_REPLY_BYTES:
        return Rejection(topic, payload[:MAX_REPLY_BYTES], f"over {MAX_REPLY_BYTES} bytes")
    try:
        text = payload.decode("utf-8")
        body = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        return Rejection(topic, payload, f"not a reply: not JSON: {exc}")
    except RecursionError:
        return Rejection(topic, payload, "not a reply: nested too deep")
    if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
        return Rejection(topic, payload, 'not a reply: a JSON object with "ok" expected')
    key = hashlib.sha256(topic.encode() + b"\n" + payload).hexdigest()
    return Reply(
        key=key,
        site_id=site_id,
        topic_kind=kind,
        request_id=_text(body.get("request_id")),
        ticket_id=_text(body.get("ticket_id")),
        ok=body["ok"],
        error=_text(body.get("error")),
        payload=text,
    )


def _text(value: object) -> str | None:
    return value[:_TEXT_LIMIT] if isinstance(value, str) else None
