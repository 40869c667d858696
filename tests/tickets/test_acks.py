"""Messages on ``acks`` applied to the ticket book: acknowledgement, arrival, departure,
and the replies to what does not fit the ticket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.model import Condition, EventKind, Level, ReminderKind
from gateway.tickets import ServiceClocks, TicketBook
from gateway.tickets.acks import apply_ack
from gateway.tickets.state import OpenTicket

T0 = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)


CLOCK = [T0]  # the book's clock: the tests move it as messages arrive


def opened(level: Level = Level.L1) -> tuple[TicketBook, str, list[datetime]]:
    CLOCK[0] = T0
    book = TicketBook("s", ServiceClocks(), {"nvr-1": "nvr"}, now=lambda: CLOCK[0])
    event = book.on_condition(Condition("nvr-1", "device.unreachable", level, "down", True, T0))
    return book, event.events[0].ticket_id, CLOCK


def ack(book: TicketBook, ticket_id: str, action: str, now: datetime,
        **extra: Any) -> tuple[dict[str, Any], OpenTicket | None]:  # fmt: skip
    CLOCK[0] = now
    body = {"ticket_id": ticket_id, "action": action, "by": "tech-li", **extra}
    return apply_ack(book, body, now)


def test_arrival_stops_the_onsite_reminders_and_departure_is_recorded() -> None:
    book, ticket_id, _ = opened()
    reply, changed = ack(book, ticket_id, "arrived", T0 + timedelta(hours=1),
                         at="2026-03-04T10:50:00+08:00")  # fmt: skip
    assert reply == {"ok": True, "ticket_id": ticket_id, "acked_by": None,
                     "arrived_at": "2026-03-04T02:50:00.000Z", "departed_at": None}  # fmt: skip
    assert changed is not None and changed.arrived_by == "tech-li"
    # Someone on site: no response reminder and no on-site reminder any more.
    assert book.tick(T0 + timedelta(hours=3)).events == []
    reply, _ = ack(book, ticket_id, "departed", T0 + timedelta(hours=2))
    assert reply["departed_at"] == "2026-03-04T04:00:00.000Z"
    resolved = book.on_condition(
        Condition("nvr-1", "device.unreachable", Level.L1, "down", False, T0 + timedelta(hours=3))
    ).events[0]
    assert (resolved.arrived_at, resolved.departed_at) == (
        T0 + timedelta(minutes=50), T0 + timedelta(hours=2)
    )  # fmt: skip
    assert resolved.on_time is not None
    assert (resolved.on_time.response, resolved.on_time.onsite) == (False, True)  # no ack by 10 min


def test_without_arrival_the_onsite_deadline_reminds() -> None:
    book, ticket_id, _ = opened()
    ack(book, ticket_id, "ack", T0 + timedelta(minutes=5))
    events = book.tick(T0 + timedelta(hours=2)).events
    assert [(e.event, e.reminder_kind) for e in events] == [
        (EventKind.REMINDER, ReminderKind.ONSITE)
    ]


def test_reports_that_do_not_fit_get_an_error_and_change_nothing() -> None:
    book, ticket_id, _ = opened()
    now = T0 + timedelta(hours=1)
    cases = [
        ("departed", {}, "no arrival recorded: report 'arrived' first"),
        ("arrived", {"at": "2026-03-04T12:00:00+08:00"}, "is in the future"),
        ("arrived", {"at": "2026-03-04T09:00:00+08:00"}, "is before the fault occurred"),
        ("arrived", {"at": "2026-03-04T10:30:00"}, "has no UTC offset"),
        ("arrived", {"at": "half past ten"}, "invalid at: 'half past ten' is not an RFC 3339"),
    ]
    for action, extra, error in cases:
        reply, changed = ack(book, ticket_id, action, now, **extra)
        assert reply["ok"] is False and error in reply["error"], (action, extra, reply)
        assert changed is None
    ack(book, ticket_id, "arrived", now)
    reply, _ = ack(book, ticket_id, "departed", now, at="2026-03-04T10:30:00+08:00")
    assert "before the arrival" in reply["error"]
    reply, _ = ack(book, "s-unknown", "arrived", now)
    assert reply == {"ok": False, "error": "no open ticket 's-unknown'"}


def test_the_first_arrival_counts() -> None:
    book, ticket_id, _ = opened()
    ack(book, ticket_id, "arrived", T0 + timedelta(minutes=30))
    reply, _ = ack(book, ticket_id, "arrived", T0 + timedelta(minutes=40))
    assert reply["arrived_at"] == "2026-03-04T02:30:00.000Z"
