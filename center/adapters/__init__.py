"""Adapters: each takes the ledger's deliveries for one tool of the service center.

An adapter only sends: `send` delivers one event or raises `DeliveryError`; the queue,
the order per ticket, the retries and the dead letters are the `Deliverer`'s
(center/delivery.py), the same for every adapter. `maintain` is an adapter's own work
beside the deliveries (Alertmanager forgets an alert that is not sent again); most
have none. `build` makes the adapter a CENTER.yaml entry names; a new kind of adapter
is a module here and a case there.
"""

from __future__ import annotations

from typing import Protocol

from center.config import Adapter as AdapterConfig
from center.ledger import Delivery, LedgerStore


class DeliveryError(Exception):
    """This attempt failed (the tool down, refusing, too slow); it will be retried."""


class Adapter(Protocol):
    name: str

    async def send(self, delivery: Delivery) -> None:
        """Deliver one event, or raise DeliveryError."""

    async def maintain(self) -> None:
        """Run beside the deliveries until cancelled; return at once if nothing to do."""

    async def close(self) -> None: ...


def build(settings: AdapterConfig, store: LedgerStore) -> Adapter:
    from center.adapters.alertmanager import AlertmanagerAdapter
    from center.adapters.dingtalk import DingTalkAdapter
    from center.adapters.mail import MailAdapter
    from center.adapters.webhook import WebhookAdapter
    from center.adapters.wecom import WeComAdapter

    match settings.type:
        case "webhook":
            return WebhookAdapter(settings)
        case "alertmanager":
            return AlertmanagerAdapter(settings, store)
        case "email":
            return MailAdapter(settings)
        case "dingtalk":
            return DingTalkAdapter(settings)
        case "wecom":
            return WeComAdapter(settings)
