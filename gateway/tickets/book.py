"""The ticket book: one ticket per incident, its lifecycle, its clocks.

open -> update (level change, devices added to or removed from the incident) ->
resolve; ``reminder`` when the response deadline passes without an acknowledgement
(``reminder_kind: response``) or the on-site deadline without an arrival
(``onsite``), and again at growing intervals. The book is pure: it returns events
and the ticket states that changed; the caller persists them (TicketStore) and
delivers them.

Deadlines are set when a ticket opens and when its level changes. A rise: the new
level's deadlines run from the moment of the rise (never later than a deadline the
ticket already had that has not passed), the acknowledgement is cleared and the
reminders start again. A fall: the lower level's deadlines from the fault's start,
and the acknowledgement stays.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from gateway.model import Condition, EventKind, Level, ReminderKind, TicketEvent
from gateway.tickets import visits
from gateway.tickets.clocks import ServiceClocks
from gateway.tickets.state import OpenTicket
from gateway.tickets.terms import Coverage, deadlines
from gateway.tickets.visits import on_time

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
        coverage: Coverage | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        loaded: Iterable[OpenTicket] = (),
        confirm_wait: ConfirmWait = default_confirm_wait,
    ) -> None:
        self.site_id = site_id
        self.confirm_wait = confirm_wait
        self.clocks = clocks
        self.device_kinds = device_kinds
        self.coverage = coverage or Coverage()
        self.now = now
        self.open: dict[tuple[str, str, str], OpenTicket] = {t.key: t for t in loaded}
        for ticket in self.open.values():
            if ticket.response_due is None:  # stored by a version that did not keep them
                self._set_deadlines(ticket, ticket.opened_at)
                ticket.next_onsite_reminder_at = ticket.onsite_due
        # Loaded tickets whose fault was not raised again yet (`after_poll` settles them);
        # kept apart so that a poll costs nothing here once they are settled.
        # The value: the time of the device's first poll after the start.
        self.unconfirmed: dict[Key, datetime | None] = dict.fromkeys(
            t.key for t in self.open.values() if not t.confirmed
        )
        # The earliest reminder that may fall due, so that a tick before it looks at no
        # ticket; unknown (recomputed by the next tick) after any change to the tickets.
        self._next_reminder: datetime | None = None
        self._reminders_known = False

    def dedup_key(self, key: tuple[str, str, str]) -> str:
        return "/".join([self.site_id, *key])

    def find(self, ticket_id: str) -> OpenTicket | None:
        return next((t for t in self.open.values() if t.ticket_id == ticket_id), None)

    # -- conditions --------------------------------------------------------------

    def on_condition(self, condition: Condition) -> Decision:
        self._reminders_known = False
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
        self._set_deadlines(ticket, occurred)
        ticket.next_reminder_at = ticket.response_due
        ticket.next_onsite_reminder_at = ticket.onsite_due
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
        if previous is not None and condition.level < previous:
            self._rise(ticket, self.now())
        elif previous is not None:
            self._fall(ticket, self.now())
        event = self._event(ticket, EventKind.UPDATE, condition, previous=previous)
        return Decision([event], {ticket.ticket_id: ticket})

    # -- deadlines ---------------------------------------------------------------

    def _set_deadlines(self, ticket: OpenTicket, start: datetime) -> None:
        due = deadlines(
            self.clocks, self.coverage, ticket.level, start, device=ticket.device,
            device_kind=self.device_kinds.get(ticket.device, ""), code=ticket.code,
            occurred=ticket.opened_at,
        )  # fmt: skip
        ticket.response_due, ticket.onsite_due, ticket.loaner_due = (
            due.response_due,
            due.onsite_due,
            due.loaner_due,
        )

    def _rise(self, ticket: OpenTicket, at: datetime) -> None:
        """More severe: fresh deadlines from ``at``, a new acknowledgement is needed."""
        before = (ticket.response_due, ticket.onsite_due)
        self._set_deadlines(ticket, at)
        ticket.response_due = _earlier(ticket.response_due, before[0], at)
        ticket.onsite_due = _earlier(ticket.onsite_due, before[1], at)
        ticket.acked_by = ticket.acked_at = None
        ticket.reminders, ticket.next_reminder_at = 0, ticket.response_due
        if ticket.departed_at is not None:  # the visit is over: the new level needs one
            ticket.arrived_by = ticket.arrived_at = ticket.departed_at = None
        if ticket.arrived_at is None:
            ticket.onsite_reminders, ticket.next_onsite_reminder_at = 0, ticket.onsite_due

    def _fall(self, ticket: OpenTicket, at: datetime) -> None:
        """Less severe: the lower level's deadlines from the fault's start; reminders
        still due wait for the new deadline when it is later than now."""
        self._set_deadlines(ticket, ticket.opened_at)
        due = ticket.response_due
        if ticket.acked_by is None and due is not None and due > at:
            ticket.reminders, ticket.next_reminder_at = 0, due
        if ticket.arrived_at is None:
            if ticket.onsite_due is None:
                ticket.next_onsite_reminder_at = None
            elif ticket.onsite_due > at:
                ticket.onsite_reminders, ticket.next_onsite_reminder_at = 0, ticket.onsite_due

    # -- time and polls ----------------------------------------------------------

    def tick(self, now: datetime) -> Decision:
        """Reminders: a response overdue (not acknowledged, nobody on site), a visit
        overdue (nobody arrived); each kind again after the level's response time,
        doubling, up to a cap."""
        decision = Decision()
        due_first = self._next_reminder
        if self._reminders_known and (due_first is None or now < due_first):
            return decision  # nothing can be due: no ticket looked at
        earliest: datetime | None = None
        for ticket in self.open.values():
            responded = ticket.acked_by is not None or ticket.arrived_at is not None
            due = ticket.next_reminder_at
            if not responded and due is not None and now >= due:
                ticket.reminders += 1
                ticket.next_reminder_at = now + self._gap(ticket, ticket.reminders)
                self._remind(ticket, ReminderKind.RESPONSE, decision)
            due = ticket.next_onsite_reminder_at
            if ticket.arrived_at is None and due is not None and now >= due:
                ticket.onsite_reminders += 1
                ticket.next_onsite_reminder_at = now + self._gap(ticket, ticket.onsite_reminders)
                self._remind(ticket, ReminderKind.ONSITE, decision)
            for next_due in (
                None if responded else ticket.next_reminder_at,
                None if ticket.arrived_at is not None else ticket.next_onsite_reminder_at,
            ):
                if next_due is not None and (earliest is None or next_due < earliest):
                    earliest = next_due
        self._next_reminder, self._reminders_known = earliest, True
        return decision

    def _gap(self, ticket: OpenTicket, sent: int) -> timedelta:
        return self.clocks.reminder_after(ticket.level, sent)

    def _remind(self, ticket: OpenTicket, kind: ReminderKind, decision: Decision) -> None:
        decision.events.append(self._event(ticket, EventKind.REMINDER, None, reminder=kind))
        decision.changed[ticket.ticket_id] = ticket

    def awaits_confirmation(self, device: str) -> bool:
        """Does ``device`` have a ticket loaded at start-up that `after_poll` must settle?"""
        return any(key[0] == device for key in self.unconfirmed)

    def after_poll(self, device: str, ts: datetime, active: set[tuple[str, str, str]]) -> Decision:
        """Resolve tickets loaded at start-up whose fault cleared while the gateway was down.

        ``active`` is the set of condition keys the rules hold active for the device.
        """
        decision = Decision()
        self._reminders_known = False
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
        self._reminders_known = False
        if ticket is None:
            return None
        if ticket.acked_by is None:
            ticket.acked_by, ticket.acked_at = by, at
            ticket.next_reminder_at = None
        return ticket

    def arrive(self, ticket_id: str, by: str, at: datetime) -> OpenTicket | None:
        """The technician is on site: the on-site clock stops (raises `VisitError`)."""
        self._reminders_known = False
        ticket = self.find(ticket_id)
        if ticket is not None:
            visits.arrive(ticket, by, at, self.now())
        return ticket

    def depart(self, ticket_id: str, at: datetime) -> OpenTicket | None:
        """The technician left the site (raises `VisitError`)."""
        self._reminders_known = False
        ticket = self.find(ticket_id)
        if ticket is not None:
            visits.depart(ticket, at, self.now())
        return ticket

    # -- events ------------------------------------------------------------------

    def _event(
        self,
        ticket: OpenTicket,
        kind: EventKind,
        condition: Condition | None,
        resolved_at: datetime | None = None,
        previous: Level | None = None,
        reminder: ReminderKind | None = None,
    ) -> TicketEvent:
        ticket.seq += 1
        emitted = self.now()
        ended = self.coverage.ended(emitted)
        assert ticket.response_due is not None  # set at open, or when loaded
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
            occurred_at=ticket.opened_at,
            emitted_at=emitted,
            response_due=ticket.response_due,
            onsite_due=ticket.onsite_due,
            dedup_key=self.dedup_key(ticket.key),
            resolved_at=resolved_at,
            evidence=condition.evidence if condition else (),
            related=ticket.related,
            maintenance=condition.maintenance if condition else ticket.maintenance,
            previous_severity=previous,
            loaner_due=None if ended else ticket.loaner_due,
            acknowledged_by=ticket.acked_by,
            acknowledged_at=ticket.acked_at,
            reminder_no=_reminder_no(ticket, reminder),
            reminder_kind=reminder,
            arrived_at=ticket.arrived_at,
            departed_at=ticket.departed_at,
            on_time=on_time(ticket, resolved_at) if resolved_at is not None else None,
            contract_ended=ended,
        )


def _earlier(new: datetime | None, old: datetime | None, at: datetime) -> datetime | None:
    """``new``, or ``old`` when it is earlier and has not passed at ``at``."""
    if new is None or old is None:
        return new
    return old if at <= old < new else new


def _reminder_no(ticket: OpenTicket, kind: ReminderKind | None) -> int:
    if kind is ReminderKind.RESPONSE:
        return ticket.reminders
    return ticket.onsite_reminders if kind is ReminderKind.ONSITE else 0
