"""Ticket events as JSON, per docs/schemas/ticket-event.schema.json."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from gateway.config.site import ContractType, Device, Site
from gateway.i18n import translator
from gateway.model import Reading, TicketEvent

SCHEMA_ID = "lvgw.ticket-event/1"


def rfc3339(ts: datetime | None) -> str | None:
    if ts is None:
        return None
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _evidence(reading: Reading) -> dict[str, Any]:
    value = reading.value
    if isinstance(value, float) and value != value:  # NaN is not JSON
        value = None
    item: dict[str, Any] = {"point": reading.point, "value": value, "ts": rfc3339(reading.ts)}
    if reading.instance:
        item["instance"] = reading.instance
    if reading.unit:
        item["unit"] = reading.unit
    if reading.quality.value != "good":
        item["quality"] = reading.quality.value
    return item


def site_block(site: Site, contract_ended: bool = False) -> dict[str, Any]:
    return {
        "id": site.id,
        "name": site.name,
        "customer": site.customer.model_dump(),
        "zone": site.zone.value,
        "contract": {
            "type": site.contract.type.value,
            "ends": site.contract.ends.isoformat() if site.contract.ends else None,
            # Past its end date: served per visit (no loaner, no inspections).
            "ended": contract_ended,
        },
    }


def event_payload(event: TicketEvent, site: Site, device: Device | None) -> dict[str, Any]:
    """The JSON object for one ticket event (the first half of the service form).

    Only ``title`` and ``level_meaning`` are in the site's language (the title was
    written in it when the fault was found); every other field is a code or a time."""
    return {
        "schema": SCHEMA_ID,
        "event_id": event.event_id,
        "event": event.event.value,
        "ticket_id": event.ticket_id,
        "dedup_key": event.dedup_key,
        "seq": event.seq,
        "severity": int(event.severity),
        "level_meaning": translator(site.locale).gettext(event.severity.meaning),
        "title": event.title,
        "site": site_block(site, event.contract_ended),
        "device": {
            "id": event.device_id,
            "kind": event.device_kind,
            "name": device.name if device else "",
            "address": device.address if device else "",
            "role": device.role if device else None,
        },
        "fault": {
            "code": event.fault_code,
            "instance": event.instance or None,
            "evidence": [_evidence(r) for r in event.evidence],
        },
        "related_devices": list(event.related),
        "maintenance": event.maintenance,
        "previous_severity": int(event.previous_severity) if event.previous_severity else None,
        "occurred_at": rfc3339(event.occurred_at),
        "emitted_at": rfc3339(event.emitted_at),
        "response_due": rfc3339(event.response_due),
        "onsite_due": rfc3339(event.onsite_due),
        "loaner_due": rfc3339(event.loaner_due),
        "resolved_at": rfc3339(event.resolved_at),
        "acknowledged": (
            {"by": event.acknowledged_by, "at": rfc3339(event.acknowledged_at)}
            if event.acknowledged_by
            else None
        ),
        "reminder_no": event.reminder_no or None,
        "reminder_kind": event.reminder_kind.value if event.reminder_kind else None,
        "arrived_at": rfc3339(event.arrived_at),
        "departed_at": rfc3339(event.departed_at),
        "on_time": (
            {"response": event.on_time.response, "onsite": event.on_time.onsite}
            if event.on_time is not None
            else None
        ),
        # The service contact form's first half; the service center fills the rest.
        "service": {
            "customer_attribute": (
                ContractType.PER_VISIT if event.contract_ended else site.contract.type
            ).value,
            "needed": event.title,
            "time": rfc3339(event.occurred_at),
        },
    }


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
