"""Real ticket events for the center's tests: built by the gateway's own wire code
(gateway/tickets/wire.py) and checked against docs/schemas/ticket-event.schema.json."""

from __future__ import annotations

import dataclasses
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from jsonschema import Draft202012Validator

from gateway import shipped
from gateway.config.site import Site
from gateway.model import EventKind, Level
from gateway.model import TicketEvent as GatewayEvent
from gateway.tickets.wire import encode, event_payload

_SCHEMA = Draft202012Validator(
    shipped.schema("ticket-event"), format_checker=Draft202012Validator.FORMAT_CHECKER
)
_IDS = itertools.count(1)
T0 = datetime(2026, 11, 22, 10, 36, 46, tzinfo=UTC)


def site(site_id: str = "site-001", customer: str = "ACME") -> Site:
    return Site.model_validate(
        {
            "id": site_id,
            "name": "Plant",
            "customer": {"name": customer},
            "contract": {"type": "annual"},
        }
    )


def ticket_event(
    ticket_id: str,
    seq: int,
    kind: str = "open",
    *,
    site_id: str = "site-001",
    severity: int = 1,
    acked_at: datetime | None = None,
    arrived_at: datetime | None = None,
    emitted: datetime | None = None,
    customer: str = "ACME",
    **fields: Any,
) -> bytes:
    """One event of ``ticket_id`` as the gateway publishes it (valid by the schema);
    ``fields`` set more of the gateway's event (previous_severity, related, ...)."""
    event = GatewayEvent(
        event_id=f"ev-{next(_IDS):06d}-{ticket_id}-{seq}",
        event=EventKind(kind),
        ticket_id=ticket_id,
        seq=seq,
        severity=Level(severity),
        title="Switch sw-core is unreachable",
        device_id="sw-core",
        device_kind="switch",
        fault_code="device.unreachable",
        occurred_at=T0,
        emitted_at=emitted or T0 + timedelta(seconds=seq),
        response_due=T0 + timedelta(minutes=10),
        onsite_due=T0 + timedelta(hours=2),
        dedup_key=f"{site_id}/sw-core/device.unreachable/",
        resolved_at=T0 + timedelta(hours=1) if kind == "resolve" else None,
        acknowledged_by="desk-7" if acked_at else None,
        acknowledged_at=acked_at,
        arrived_at=arrived_at,
    )
    event = dataclasses.replace(event, **fields)
    payload = encode(event_payload(event, site(site_id, customer), None))
    body: dict[str, Any] = json.loads(payload)
    _SCHEMA.validate(body)
    return payload


def event_id(payload: bytes) -> str:
    value = json.loads(payload)["event_id"]
    assert isinstance(value, str)
    return value
