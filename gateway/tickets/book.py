"""The ticket book: one ticket per incident, a sequence of events per ticket."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.model import Condition, EventKind, TicketEvent
from gateway.tickets.clocks import ServiceClocks


@dataclass(slots=True)
class OpenTicket:
    ticket_id: str
    condition: Condition
    opened_at: datetime
    seq: int


def new_ticket_id(site_id: str, at: datetime) -> str:
    """Readable and unique: site, UTC time of the fault, and a random suffix."""
    return f"{site_id}-{at:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


class TicketBook:
    """Turns condition changes into ticket events (open, resolve)."""

    def __init__(
        self,
        site_id: str,
        clocks: ServiceClocks,
        device_kinds: dict[str, str],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.site_id = site_id
        self.clocks = clocks
        self.device_kinds = device_kinds
        self.now = now
        self.open: dict[tuple[str, str, str], OpenTicket] = {}

    def dedup_key(self, condition: Condition) -> str:
        return "/".join([self.site_id, *condition.key])

    def on_condition(self, condition: Condition) -> list[TicketEvent]:
        ticket = self.open.get(condition.key)
        if condition.active and ticket is None:
            ticket = OpenTicket(
                new_ticket_id(self.site_id, condition.since), condition, condition.since, 0
            )
            self.open[condition.key] = ticket
            return [self._event(ticket, EventKind.OPEN, condition)]
        if not condition.active and ticket is not None:
            del self.open[condition.key]
            return [self._event(ticket, EventKind.RESOLVE, condition, resolved_at=condition.since)]
        return []

    def _event(
        self,
        ticket: OpenTicket,
        kind: EventKind,
        condition: Condition,
        resolved_at: datetime | None = None,
    ) -> TicketEvent:
        ticket.seq += 1
        level = ticket.condition.level
        occurred = ticket.opened_at
        return TicketEvent(
            event_id=str(uuid.uuid4()),
            event=kind,
            ticket_id=ticket.ticket_id,
            seq=ticket.seq,
            severity=level,
            title=ticket.condition.title,
            device_id=condition.device,
            device_kind=self.device_kinds.get(condition.device, ""),
            fault_code=condition.code,
            instance=condition.instance,
            occurred_at=occurred,
            emitted_at=self.now(),
            response_due=self.clocks.response_due(level, occurred),
            onsite_due=self.clocks.onsite_due(level, occurred),
            dedup_key=self.dedup_key(condition),
            resolved_at=resolved_at,
            evidence=condition.evidence,
        )
