"""Adapters: each takes the ledger's deliveries for one tool of the service center.

An adapter only sends: `send` delivers one event or raises `DeliveryError`; the queue,
the order per ticket, the retries and the dead letters are the `Deliverer`'s
(center/delivery.py), the same for every adapter. `build` makes the adapter a
CENTER.yaml entry names; a new kind of adapter is a module here and a case there.
"""

from __future__ import annotations

from typing import Protocol

from center.config import Adapter as AdapterConfig
from center.ledger import Delivery


class DeliveryError(Exception):
    """This attempt failed (the tool down, refusing, too slow); it will be retried."""


class Adapter(Protocol):
    name: str

    async def send(self, delivery: Delivery) -> None:
        """Deliver one event, or raise DeliveryError."""

    async def close(self) -> None: ...


def build(settings: AdapterConfig) -> Adapter:
    from center.adapters.webhook import WebhookAdapter

    return WebhookAdapter(settings)
