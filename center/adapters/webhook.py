"""The ``webhook`` adapter: each ticket event POSTed as published, signed.

The body is the event's bytes exactly as the gateway published them. Headers:
``X-Lvgw-Event-Id`` (the event's id: a receiver deduplicates on it, as a retried
delivery carries the same one) and ``X-Lvgw-Signature: sha256=<hex>``, the
HMAC-SHA256 of the body keyed with the bytes of ``secret_file`` (a trailing newline
stripped). Any 2xx answer is delivered; anything else, or no answer within
``timeout``, is a failed attempt.
"""

from __future__ import annotations

import hashlib
import hmac

from center.adapters.http import HttpClient
from center.config import Webhook
from center.ledger import Delivery

EVENT_ID_HEADER = "X-Lvgw-Event-Id"
SIGNATURE_HEADER = "X-Lvgw-Signature"


def read_key(settings: Webhook) -> bytes:
    return settings.secret_file.read_bytes().rstrip(b"\r\n")


def signature(key: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


class WebhookAdapter:
    def __init__(self, settings: Webhook) -> None:
        self.name = settings.name
        self.settings = settings
        self._key = read_key(settings)
        self._http = HttpClient(settings.timeout)

    async def send(self, delivery: Delivery) -> None:
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: delivery.event_id,
            SIGNATURE_HEADER: signature(self._key, delivery.payload),
        }
        answer = await self._http.post(self.settings.url, delivery.payload, headers)
        if not answer.ok:
            raise answer.failure()

    async def maintain(self) -> None:
        return None

    async def close(self) -> None:
        await self._http.close()
