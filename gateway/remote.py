"""One command to a running gateway through its broker: ``cmd/<name>`` out, the reply
from ``cmd-reply/<name>`` back (docs/mqtt.md), signed with the site's command key when
one is given (gateway/signing.py).

``lvgw maintenance ... --broker HOST:PORT`` uses it, as a service center would.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import socket
from typing import Any

import aiomqtt

from gateway import signing

REPLY_TIMEOUT_S = 10.0
NO_DELAY = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoReply(Exception):
    """The gateway did not answer in time (not running, or not connected)."""


class BadParts(Exception):
    """The parts of a reply do not make up one text (docs/mqtt.md, "Parts")."""


class Parts:
    """Collects the numbered parts of one reply (``part`` 1..``parts``, the text in
    ``field``) and joins them, checked against their ``sha256``."""

    def __init__(self, field: str) -> None:
        self.field = field
        self._got: dict[int, dict[str, Any]] = {}

    def add(self, reply: dict[str, Any]) -> dict[str, Any] | None:
        """The whole reply once every part arrived (a reply without parts is whole)."""
        if "parts" not in reply or not reply.get("ok"):
            return reply
        parts, part = reply["parts"], reply.get("part")
        if not isinstance(parts, int) or not isinstance(part, int) or not 0 < part <= parts:
            raise BadParts(f"part {part!r} of {parts!r}")
        self._got[part] = reply
        if len(self._got) < parts:
            return None
        text = "".join(str(self._got[n][self.field]) for n in range(1, parts + 1))
        digest = hashlib.sha256(text.encode()).hexdigest()
        if digest != reply.get("sha256"):
            raise BadParts(f"the {parts} parts do not match their sha256")
        whole = {k: v for k, v in reply.items() if k not in ("part", "parts")}
        whole[self.field] = text
        return whole


async def send_command(
    host: str,
    port: int,
    site_id: str,
    name: str,
    body: dict[str, Any],
    key: bytes | None = None,
    wait: float = REPLY_TIMEOUT_S,
    joined: str | None = None,
) -> dict[str, Any]:
    """Send ``body`` as command ``name`` to the gateway of ``site_id``; its reply. With
    ``joined`` (``report``), a reply in parts is awaited whole and that field joined."""
    parts = Parts(joined or "")
    prefix = f"lvgw/v1/{site_id}/"
    request_id = secrets.token_hex(8)
    message: dict[str, Any] = {**body, "request_id": request_id}
    if key is not None:
        message = signing.sign(message, key)
    async with aiomqtt.Client(
        host, port, identifier=f"lvgw-cmd-{request_id}", socket_options=(NO_DELAY,)
    ) as client:
        await client.subscribe(prefix + f"cmd-reply/{name}", qos=1)
        await client.publish(prefix + f"cmd/{name}", json.dumps(message).encode(), qos=1)
        try:
            async with asyncio.timeout(wait):
                async for reply in client.messages:
                    try:
                        answer = json.loads(bytes(reply.payload))
                    except ValueError:
                        continue
                    if isinstance(answer, dict) and answer.get("request_id") == request_id:
                        whole = parts.add(answer) if joined else answer
                        if whole is not None:
                            return whole
        except TimeoutError:
            pass
    raise NoReply(f"no reply from the gateway of site {site_id} within {wait:g} s")
