"""One command to a running gateway through its broker: ``cmd/<name>`` out, the reply
from ``cmd-reply/<name>`` back (docs/mqtt.md), signed with the site's command key when
one is given (gateway/signing.py).

``lvgw maintenance ... --broker HOST:PORT`` uses it, as a service center would.
"""

from __future__ import annotations

import asyncio
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


async def send_command(
    host: str,
    port: int,
    site_id: str,
    name: str,
    body: dict[str, Any],
    key: bytes | None = None,
    wait: float = REPLY_TIMEOUT_S,
) -> dict[str, Any]:
    """Send ``body`` as command ``name`` to the gateway of ``site_id``; its reply."""
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
                        return answer
        except TimeoutError:
            pass
    raise NoReply(f"no reply from the gateway of site {site_id} within {wait:g} s")
