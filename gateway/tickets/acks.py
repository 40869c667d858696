"""What the service center says about a ticket on ``acks``, applied to the ticket book.

| action | does |
|---|---|
| ``ack`` | records who acknowledged (once): the response reminders stop |
| ``comment`` | logged, nothing changes |
| ``arrived`` | the technician is on site (once): the on-site clock and its reminders stop |
| ``departed`` | the technician left (once, after ``arrived``) |

``at`` (RFC 3339, optional; ``arrived`` and ``departed``) is when it happened;
default: when the gateway got the message. An acknowledgement is timed on arrival.
The message was validated against the inbound schema before it gets here.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from gateway.tickets.book import TicketBook
from gateway.tickets.state import OpenTicket
from gateway.tickets.visits import VisitError
from gateway.tickets.wire import rfc3339

log = logging.getLogger("lvgw.tickets")


def _when(body: dict[str, Any], now: datetime) -> datetime:
    text = body.get("at")
    if text is None:
        return now
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise VisitError(f"invalid at: {text!r} is not an RFC 3339 time") from None
    if at.tzinfo is None:
        raise VisitError(f"invalid at: {text!r} has no UTC offset (RFC 3339: Z or +08:00)")
    return at


def apply_ack(
    book: TicketBook, body: dict[str, Any], now: datetime
) -> tuple[dict[str, Any], OpenTicket | None]:
    """The reply, and the ticket whose state changed (to save), if any."""
    ticket = book.find(body["ticket_id"])
    if ticket is None:
        return {"ok": False, "error": f"no open ticket {body['ticket_id']!r}"}, None
    action, by = body["action"], body["by"]
    try:
        if action == "ack":
            book.acknowledge(ticket.ticket_id, by, now)
        elif action == "arrived":
            book.arrive(ticket.ticket_id, by, _when(body, now))
        elif action == "departed":
            book.depart(ticket.ticket_id, _when(body, now))
    except VisitError as exc:
        return {"ok": False, "error": str(exc), "ticket_id": ticket.ticket_id}, None
    log.info("ticket %s ticket=%s by=%s", action, ticket.ticket_id, by)
    reply: dict[str, Any] = {"ok": True, "ticket_id": ticket.ticket_id}
    reply["acked_by"] = ticket.acked_by
    if action in ("arrived", "departed"):
        reply["arrived_at"] = rfc3339(ticket.arrived_at)
        reply["departed_at"] = rfc3339(ticket.departed_at)
    return reply, None if action == "comment" else ticket
