"""Tickets as the web app shows them: the ledger's row and its last event together.

`TicketView` puts the ledger's on-time record (tickets table) beside what only the
event carries (the site's name and customer, the contract's end, the device's kind,
who acknowledged, the departure). `board` orders the open ones as a dispatcher reads
them: overdue first, then by the deadline that falls next.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from center.ledger import TicketRow


def instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True, slots=True)
class TicketView:
    ticket_id: str
    site_id: str
    site_name: str | None
    customer: str | None
    contract_ends: str | None
    device_id: str | None
    device_kind: str | None
    fault_code: str | None
    severity: int | None
    title: str | None
    state: str
    occurred_at: datetime | None
    resolved_at: datetime | None
    response_due: datetime | None
    onsite_due: datetime | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    arrived_at: datetime | None
    departed_at: datetime | None
    on_time_response: bool | None
    on_time_onsite: bool | None

    @property
    def responded_at(self) -> datetime | None:
        """The first help: an acknowledgement, or an arrival before any (the ledger's
        rule for the response's on-time record)."""
        done = [t for t in (self.acknowledged_at, self.arrived_at) if t is not None]
        return min(done) if done else None

    def next_deadline(self) -> datetime | None:
        """The deadline still running: the response's until someone responded, then
        the visit's until someone arrived; None when both are met (or none is due)."""
        if self.responded_at is None and self.response_due is not None:
            return self.response_due
        if self.arrived_at is None:
            return self.onsite_due
        return None

    def overdue(self, now: datetime) -> bool:
        due = self.next_deadline()
        return due is not None and due < now


def view(row: TicketRow, event: Mapping[str, Any] | None) -> TicketView:
    event = event or {}
    site = event.get("site") or {}
    device = event.get("device") or {}
    acknowledged = event.get("acknowledged") or {}
    return TicketView(
        ticket_id=row.ticket_id,
        site_id=row.site_id,
        site_name=site.get("name"),
        customer=(site.get("customer") or {}).get("name"),
        contract_ends=(site.get("contract") or {}).get("ends"),
        device_id=row.device_id,
        device_kind=device.get("kind"),
        fault_code=row.fault_code,
        severity=row.severity,
        title=row.title,
        state=row.state,
        occurred_at=instant(row.opened_at),
        resolved_at=instant(row.resolved_at),
        response_due=instant(row.response_due),
        onsite_due=instant(row.onsite_due),
        acknowledged_by=acknowledged.get("by"),
        acknowledged_at=instant(row.acknowledged_at),
        arrived_at=instant(row.arrived_at),
        departed_at=instant(event.get("departed_at")),
        on_time_response=row.on_time_response,
        on_time_onsite=row.on_time_onsite,
    )


def views(rows: Iterable[TicketRow], events: Mapping[str, Mapping[str, Any]]) -> list[TicketView]:
    """The tickets that have an event applied (a ticket still waiting for its first
    one has nothing to show yet)."""
    return [view(r, events.get(r.ticket_id)) for r in rows if r.state != "waiting"]


def board(tickets: Iterable[TicketView], now: datetime) -> list[TicketView]:
    """Open tickets, overdue first, then by the deadline that falls next (none last),
    then the more severe first."""
    far = datetime.max.replace(tzinfo=now.tzinfo)

    def order(t: TicketView) -> tuple[bool, datetime, int, str]:
        due = t.next_deadline()
        return (not t.overdue(now), due or far, t.severity or 9, t.ticket_id)

    return sorted((t for t in tickets if t.state == "open"), key=order)


def customers_of_sites(
    tickets: Iterable[TicketView], configured: Mapping[str, str | None]
) -> dict[str, str]:
    """Each site's customer: as CENTER.yaml's ``sites[].customer`` says, else as the
    site's latest ticket event says."""
    found: dict[str, tuple[datetime | None, str]] = {}
    for t in tickets:
        if t.customer is None:
            continue
        seen = found.get(t.site_id)
        when = t.occurred_at
        if seen is None or (when is not None and (seen[0] is None or when > seen[0])):
            found[t.site_id] = (when, t.customer)
    customers = {site: customer for site, (_, customer) in found.items()}
    customers.update({site: c for site, c in configured.items() if c is not None})
    return customers
