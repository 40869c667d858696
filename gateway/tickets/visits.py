"""The technician's visit, as the service center reports it, and whether it was on time.

Seed 001: a technician reports arriving at the customer's and leaving ("到達目的地或
即將離開,均應…告知"). The arrival stops the on-site clock; seed 002's on-time rate
(服务及时率 >= 90 %) is computed from the acknowledgement against ``response_due``
and the arrival against ``onsite_due``. One ticket is one visit (seed 003: a job of
several visits is split into several tickets).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from gateway.model import OnTime
from gateway.tickets.state import OpenTicket

# How far ahead of the gateway's clock a reported time may be (the desk's clock).
CLOCK_TOLERANCE = timedelta(minutes=5)


class VisitError(ValueError):
    """A report of arrival or departure that does not fit the ticket."""


def _check_time(ticket: OpenTicket, at: datetime, now: datetime, what: str) -> None:
    if at > now + CLOCK_TOLERANCE:
        raise VisitError(f"{what} time {at.isoformat()} is in the future")
    if at < ticket.opened_at:
        raise VisitError(f"{what} time {at.isoformat()} is before the fault occurred")


def arrive(ticket: OpenTicket, by: str, at: datetime, now: datetime) -> bool:
    """Record the arrival on site (once); True when it was recorded now."""
    _check_time(ticket, at, now, "arrival")
    if ticket.arrived_at is not None:
        return False
    ticket.arrived_by, ticket.arrived_at = by, at
    ticket.next_onsite_reminder_at = None
    return True


def depart(ticket: OpenTicket, at: datetime, now: datetime) -> bool:
    """Record the departure (once, after the arrival); True when it was recorded now."""
    _check_time(ticket, at, now, "departure")
    if ticket.arrived_at is None:
        raise VisitError("no arrival recorded: report 'arrived' first")
    if at < ticket.arrived_at:
        raise VisitError(f"departure time {at.isoformat()} is before the arrival")
    if ticket.departed_at is not None:
        return False
    ticket.departed_at = at
    return True


def _met(done: datetime | None, due: datetime | None, resolved: datetime) -> bool | None:
    if due is None:
        return None
    if done is not None:
        return done <= due
    # Nothing done: late once the deadline passed with the fault still there; before
    # that, nothing was owed yet (the fault cleared by itself).
    return False if resolved > due else None


def on_time(ticket: OpenTicket, resolved: datetime) -> OnTime:
    """Acknowledged by ``response_due``, arrived by ``onsite_due`` (the current level's).
    A technician on site is a response too, acknowledged or not."""
    responded = ticket.acked_at or ticket.arrived_at
    return OnTime(
        response=_met(responded, ticket.response_due, resolved),
        onsite=_met(ticket.arrived_at, ticket.onsite_due, resolved),
    )
