"""Inbound messages from the service center: acknowledgements and commands.

Every message is checked before anything acts on it: size, JSON, its signature when
the site has a command key (gateway/signing.py), and a schema per kind. Anything
malformed, oversized, unsigned or unknown gets an error reply and the gateway
carries on. Replies go to ``cmd-reply/<name>`` (commands) and ``acks-reply`` (acks).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import jsonschema

from gateway.signing import FIELDS as SIGNATURE_FIELDS
from gateway.signing import Unauthenticated, Verifier

log = logging.getLogger("lvgw.inbound")

MAX_BYTES = 64 * 1024
MAX_ERROR_CHARS = 300

ACK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ticket_id", "action", "by"],
    "additionalProperties": False,
    "properties": {
        "ticket_id": {"type": "string", "minLength": 1, "maxLength": 200},
        "action": {"enum": ["ack", "comment", "arrived", "departed"]},
        "by": {"type": "string", "minLength": 1, "maxLength": 200},
        "note": {"type": "string", "maxLength": 2000},
        "request_id": {"type": "string", "maxLength": 200},
        "at": {"type": "string", "minLength": 1, "maxLength": 40},  # arrived, departed
    },
}


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is out of range")
    return value


def _short(text: str, limit: int = 80) -> str:
    """Text an outsider chose (a topic), shortened for a log line or a reply."""
    return text if len(text) <= limit else f"{text[:limit]}...({len(text)} chars)"


def reply_topic_for(suffix: str) -> str:
    """Where the reply to a message on ``suffix`` (``acks``, ``cmd/<name>``) goes."""
    return "acks-reply" if suffix == "acks" else f"cmd-reply/{suffix.removeprefix('cmd/')}"


class Replies(dict[str, Any]):
    """A reply in several messages (a report in parts): this body first, then each of
    ``rest`` in order, all on the same reply topic; then ``then()``, once they are sent
    or could not be (a new site file restarts the agent after its reply)."""

    def __init__(
        self,
        first: dict[str, Any],
        rest: list[dict[str, Any]],
        then: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(first)
        self.rest = rest
        self.then = then


# A command: validated body -> reply body (must contain "ok").
Command = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]
AckHandler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class Inbound:
    def __init__(
        self,
        on_ack: AckHandler,
        commands: Mapping[str, tuple[dict[str, Any], Command]],
        verifier: Verifier | None = None,
    ) -> None:
        """With ``verifier`` (the site's command key), every message must be signed."""
        self.on_ack = on_ack
        self.commands = dict(commands)
        self.verifier = verifier
        self.rejected = 0

    def _error(
        self, topic: str, message: str, request_id: object = None
    ) -> tuple[str, dict[str, Any]]:
        self.rejected += 1
        if len(message) > MAX_ERROR_CHARS:  # schema errors quote the offending value
            message = message[: MAX_ERROR_CHARS - 3] + "..."
        log.warning("inbound message refused topic=%s error=%r", _short(topic), message)
        body: dict[str, Any] = {"ok": False, "error": message}
        if isinstance(request_id, str):
            body["request_id"] = request_id
        return topic, body

    async def handle(self, suffix: str, payload: bytes) -> tuple[str, dict[str, Any]] | None:
        reply_topic = reply_topic_for(suffix)
        if suffix == "acks":
            schema, run = ACK_SCHEMA, self.on_ack
        elif suffix.startswith("cmd/"):
            name = suffix[4:]
            if name not in self.commands:
                known = ", ".join(sorted(self.commands)) or "none"
                return self._error(
                    reply_topic, f"unknown command {_short(name)!r} (known: {known})"
                )
            schema, run = self.commands[name]
        else:
            return None  # not ours (a reply topic we also see, for instance)
        if len(payload) > MAX_BYTES:
            return self._error(reply_topic, f"message too large (over {MAX_BYTES} bytes)")
        try:
            body = json.loads(
                payload.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite
            )
        except ValueError as exc:  # bad UTF-8, bad JSON, an integer of over 4,300 digits
            return self._error(reply_topic, f"not JSON: {exc}")
        except RecursionError:
            return self._error(reply_topic, "not JSON: nested too deeply")
        request_id = body.get("request_id") if isinstance(body, dict) else None
        if isinstance(body, dict):
            if self.verifier is not None:
                try:
                    self.verifier.verify(body)
                except Unauthenticated as exc:
                    return self._error(reply_topic, f"unauthenticated: {exc}", request_id)
            # Signed or not, the signature's fields are not part of the message.
            body = {k: v for k, v in body.items() if k not in SIGNATURE_FIELDS}
        try:
            jsonschema.validate(body, schema)
        except jsonschema.ValidationError as exc:
            where = "/".join(str(p) for p in exc.absolute_path) or "message"
            return self._error(reply_topic, f"invalid {where}: {exc.message}", request_id)
        reply = await run(body)
        if isinstance(request_id, str):
            reply.setdefault("request_id", request_id)
        if not reply.get("ok", False):
            self.rejected += 1
        return reply_topic, reply
