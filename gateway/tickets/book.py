"""The ticket book: one ticket per incident, its lifecycle, its clocks.

open -> update (level change, devices added to or removed from the incident) ->
resolve; ``reminder`` when the response deadline passes without an acknowledgement,
and again at growing intervals. The book is pure: it returns events and the ticket
states that changed; the caller persists them (TicketStore) and delivers them.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gateway.config.site import ContractType
from gateway.model import Condition, EventKind, Level, TicketEvent
from gateway.tickets.clocks import ServiceClocks
from gateway.tickets.state import OpenTicket

# Polls of a device after start-up before a ticket loaded from disk whose condition
# was not raised again is resolved (its fault cleared while the gateway was down).
CONFIRM_POLLS = 3

Key = tuple[str, str, str]
# How long a loaded ticket's fault may take to be raised again after a restart:
# (polls of its device, seconds from the first of them). A rule with ``for: 5m``
# needs five minutes; resolving it earlier would open a second ticket later.
ConfirmWait = Callable[[Key], tuple[int, float]]


def default_confirm_wait(key: Key) -> tuple[int, float]:
    return CONFIRM_POLLS, 0.0


def new_ticket_id(site_id: str, at: datetime) -> str:
    """Readable and unique: site, UTC time of the fault, and a random suffix."""
    return f"{site_id}-{at.astimezone(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


@dataclass(slots=True)
class Decision:
    """What one step of the book decided: events to send, ticket states to save."""

    events: list[TicketEvent] = field(default_factory=list)
    changed: dict[str, OpenTicket] = field(default_factory=dict)
    closed: list[str] = field(default_factory=list)

    def extend(self, other: Decision) -> None:
        self.events += other.events
        self.changed.update(other.changed)
        self.closed += other.closed
        for ticket_id in other.closed:
            self.changed.pop(ticket_id, None)


class TicketBook:
    def __init__(
        self,
        site_id: str,
        clocks: ServiceClocks,
        device_kinds: dict[str, str],
        contract: ContractType = ContractType.ANNUAL,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        loaded: Iterable[OpenTicket] = (),
        confirm_wait: ConfirmWait = default_confirm_wait,
    ) -> None:
        self.site_id = site_id
        self.confirm_wait = confirm_wait
        self.clocks = clocks
        self.device_kinds = device_kinds
        self.contract = contract
        self.now = now
        self.open: dict[tuple[str, str, str], OpenTicket] = {t.key: t for t in loaded}
        # Loaded tickets whose fault was not raised again yet (`after_poll` settles them);
        # kept apart so that a poll costs nothing here once they are settled.
        # The value: the time of the device's first poll after the start.
        self.unconfirmed: dict[Key, datetime | None] = dict.fromkeys(
            t.key for t in self.open.values() if not t.confirmed
        )

    def dedup_key(self, key: tuple[str, str, str]) -> str:
        return "/".join([self.site_id, *key])

    def find(self, ticket_id: str) -> OpenTicket | None:
        return next((t for t in self.open.values() if t.ticket_id == ticket_id), None)

    # -- conditions --------------------------------------------------------------

    def on_condition(self, condition: Condition) -> Decision:
        ticket = self.open.get(condition.key)
        if condition.active:
            if ticket is None:
                return self._open(condition)
            return self._maybe_update(ticket, condition)
        if ticket is None:
            return Decision()
        del self.open[condition.key]
        self.unconfirmed.pop(condition.key, None)
        event = self._event(ticket, EventKind.RESOLVE, condition, resolved_at=condition.since)
        return Decision([event], closed=[ticket.ticket_id])

    def _open(self, condition: Condition) -> Decision:
        occurred = condition.since
        ticket = OpenTicket(
            ticket_id=new_ticket_id(self.site_id, occurred),
            device=condition.device,
            code=condition.code,
            instance=condition.instance,
            level=condition.level,
            title=condition.title,
            opened_at=occurred,
            seq=0,
            related=condition.related,
            maintenance=condition.maintenance,
        )
        ticket.next_reminder_at = self.clocks.response_due(ticket.level, occurred)
        self.open[condition.key] = ticket
        event = self._event(ticket, EventKind.OPEN, condition)
        return Decision([event], {ticket.ticket_id: ticket})

    def _maybe_update(self, ticket: OpenTicket, condition: Condition) -> Decision:
        if not ticket.confirmed:  # the fault is still there after a restart: carry on
            ticket.confirmed = True
            self.unconfirmed.pop(ticket.key, None)
            if ticket.level == condition.level and ticket.related == condition.related:
                return Decision(changed={ticket.ticket_id: ticket})
        if ticket.level == condition.level and ticket.related == condition.related:
            return Decision()
        previous = ticket.level if ticket.level != condition.level else None
        ticket.level, ticket.related, ticket.title = (
            condition.level,
            condition.related,
            condition.title,
        )
        if previous is not None and ticket.acked_by is None:
            # New clocks for the new level, from the fault's start.
            ticket.reminders = 0
            ticket.next_reminder_at = self.clocks.response_due(ticket.level, ticket.opened_at)
        event = self._event(ticket, EventKind.UPDATE, condition, previous=previous)
        return Decision([event], {ticket.ticket_id: ticket})

    # -- time and polls ----------------------------------------------------------

    def tick(self, now: datetime) -> Decision:
        """Reminders for tickets whose response is overdue and not acknowledged."""
        decision = Decision()
        for ticket in self.open.values():
            due = ticket.next_reminder_at
            if ticket.acked_by is not None or due is None or now < due:
                continue
            ticket.reminders += 1
            gap = self.clocks.reminder_after(ticket.level, ticket.reminders)
            ticket.next_reminder_at = now + gap
            decision.events.append(self._event(ticket, EventKind.REMINDER, None))
            decision.changed[ticket.ticket_id] = ticket
        return decision

    def awaits_confirmation(self, device: str) -> bool:
        """Does ``device`` have a ticket loaded at start-up that `after_poll` must settle?"""
        return any(key[0] == device for key in self.unconfirmed)

    def after_poll(self, device: str, ts: datetime, active: set[tuple[str, str, str]]) -> Decision:
        """Resolve tickets loaded at start-up whose fault cleared while the gateway was down.

        ``active`` is the set of condition keys the rules hold active for the device.
        """
        decision = Decision()
        for key in [k for k in self.unconfirmed if k[0] == device]:
            ticket = self.open.get(key)
            if ticket is None or ticket.confirmed:
                del self.unconfirmed[key]
                continue
            if key in active:
                ticket.confirmed = True
                del self.unconfirmed[key]
                continue
            ticket.polls_since_load += 1
            first = self.unconfirmed[key] = self.unconfirmed[key] or ts
            polls, seconds = self.confirm_wait(key)
            if ticket.polls_since_load >= polls and (ts - first).total_seconds() >= seconds:
                del self.open[key], self.unconfirmed[key]
                cleared = Condition(
                    ticket.device,
                    ticket.code,
                    ticket.level,
                    ticket.title,
                    False,
                    ts,
                    ticket.instance,
                )
                event = self._event(ticket, EventKind.RESOLVE, cleared, resolved_at=ts)
                decision.extend(Decision([event], closed=[ticket.ticket_id]))
        return decision

    # -- acknowledgements ---------------------------------------------------------

    def acknowledge(self, ticket_id: str, by: str, at: datetime) -> OpenTicket | None:
        """Record the service center's acknowledgement: reminders stop."""
        ticket = self.find(ticket_id)
        if ticket is None:
            return None
        if ticket.acked_by is None:
            ticket.acked_by, ticket.acked_at = by, at
            ticket.next_reminder_at = None
        return ticket

    # -- events ------------------------------------------------------------------

    def _event(
        self,
        ticket: OpenTicket,
        kind: EventKind,
        condition: Condition | None,
        resolved_at: datetime | None = None,
        previous: Level | None = None,
    ) -> TicketEvent:
        ticket.seq += 1
        occurred = ticket.opened_at
        onsite_due = self.clocks.onsite_due(ticket.level, occurred)
        loaner_due = None
        if self.contract is ContractType.ANNUAL and onsite_due is not None:
            loaner_due = occurred + self.clocks.loaner_after
        return TicketEvent(
            event_id=str(uuid.uuid4()),
            event=kind,
            ticket_id=ticket.ticket_id,
            seq=ticket.seq,
            severity=ticket.level,
            title=ticket.title,
            device_id=ticket.device,
            device_kind=self.device_kinds.get(ticket.device, ""),
            fault_code=ticket.code,
            instance=ticket.instance,
            occurred_at=occurred,
            emitted_at=self.now(),
            response_due=self.clocks.response_due(ticket.level, occurred),
            onsite_due=onsite_due,
            dedup_key=self.dedup_key(ticket.key),
            resolved_at=resolved_at,
            evidence=condition.evidence if condition else (),
            related=ticket.related,
            maintenance=condition.maintenance if condition else ticket.maintenance,
            previous_severity=previous,
            loaner_due=loaner_due,
            acknowledged_by=ticket.acked_by,
            acknowledged_at=ticket.acked_at,
            reminder_no=ticket.reminders if kind is EventKind.REMINDER else 0,
        )
