"""The ticket lifecycle: open, update, resolve, reminders, acks, restarts, clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway.config.site import Clocks, ContractType, Duty, SiteZone
from gateway.model import Condition, EventKind, Level, ReminderKind
from gateway.tickets import ServiceClocks, TicketBook
from gateway.tickets.book import CONFIRM_POLLS
from gateway.tickets.duty import DutyCalendar
from gateway.tickets.state import OpenTicket
from gateway.tickets.store import TicketStore
from gateway.tickets.terms import Coverage

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def cond(
    active: bool = True, level: Level = Level.L3, at: datetime = T0, **kw: object
) -> Condition:
    base: dict[str, object] = {
        "device": "nvr-1", "code": "nvr.camera_offline", "level": level,
        "title": "Cameras offline", "active": active, "since": at,
    }  # fmt: skip
    base.update(kw)
    return Condition(**base)  # type: ignore[arg-type]


def book(contract: ContractType = ContractType.ANNUAL, **kw: object) -> TicketBook:
    return TicketBook(
        "s", ServiceClocks(), {"nvr-1": "nvr", "sw": "switch"}, Coverage(contract), lambda: T0,
        **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def test_escalation_updates_the_same_ticket_with_new_clocks() -> None:
    b = book()
    opened = b.on_condition(cond(level=Level.L3)).events[0]
    assert b.on_condition(cond(level=Level.L3)).events == []
    updated = b.on_condition(cond(level=Level.L1)).events
    assert [e.event for e in updated] == [EventKind.UPDATE]
    update = updated[0]
    assert update.ticket_id == opened.ticket_id
    assert update.seq == 2
    assert (update.severity, update.previous_severity) == (Level.L1, Level.L3)
    assert update.response_due == T0 + timedelta(minutes=10)  # L1's clock from the start
    resolved = b.on_condition(cond(active=False, at=T0 + timedelta(hours=1))).events[0]
    assert (resolved.event, resolved.seq, resolved.severity) == (EventKind.RESOLVE, 3, Level.L1)


def test_related_devices_change_is_an_update() -> None:
    b = book()
    b.on_condition(cond(device="sw", code="device.unreachable", level=Level.L1))
    event = b.on_condition(
        cond(device="sw", code="device.unreachable", level=Level.L1, related=("nvr-1", "pbx"))
    ).events[0]
    assert event.event is EventKind.UPDATE
    assert event.related == ("nvr-1", "pbx")
    assert event.previous_severity is None


def test_reminders_until_acknowledged_at_growing_intervals() -> None:
    b = book()
    ticket_id = b.on_condition(cond(level=Level.L1)).events[0].ticket_id
    assert b.tick(T0 + timedelta(minutes=9)).events == []
    first = b.tick(T0 + timedelta(minutes=10)).events
    assert [(e.event, e.reminder_no) for e in first] == [(EventKind.REMINDER, 1)]
    assert b.tick(T0 + timedelta(minutes=29)).events == []  # next after 20 min
    second = b.tick(T0 + timedelta(minutes=30)).events
    assert [e.reminder_no for e in second] == [2]
    assert b.tick(T0 + timedelta(minutes=69)).events == []  # then 40 min
    assert [e.reminder_no for e in b.tick(T0 + timedelta(minutes=70)).events] == [3]
    b.acknowledge(ticket_id, "desk-anna", T0 + timedelta(minutes=71))
    assert b.tick(T0 + timedelta(minutes=119)).events == []
    # Acknowledged, but nobody on site by the 2 h deadline: the on-site reminders begin.
    late = b.tick(T0 + timedelta(hours=2)).events
    assert [(e.reminder_kind, e.reminder_no) for e in late] == [(ReminderKind.ONSITE, 1)]
    assert all(e.reminder_kind is ReminderKind.RESPONSE for e in first + second)
    resolved = b.on_condition(cond(active=False, level=Level.L1)).events[0]
    assert resolved.acknowledged_by == "desk-anna"


def test_a_ticket_opened_during_quiet_ticks_gets_its_reminders() -> None:
    """Ticks before the earliest reminder skip the tickets; a ticket opened meanwhile
    whose reminder comes first is taken into account at the next tick."""
    b = book()
    b.on_condition(cond(level=Level.L3))  # a reminder hours away
    quiet = [b.tick(T0 + timedelta(minutes=m)).events for m in range(1, 6)]
    assert quiet == [[]] * 5
    later = T0 + timedelta(minutes=5, seconds=30)
    second = b.on_condition(cond(device="sw", code="device.unreachable", level=Level.L1, at=later))
    second_id = second.events[0].ticket_id
    assert b.tick(later + timedelta(minutes=9)).events == []
    due = b.tick(later + timedelta(minutes=10)).events
    assert [(e.ticket_id, e.reminder_no) for e in due] == [(second_id, 1)]
    b.acknowledge(second_id, "desk-anna", later + timedelta(minutes=11))
    assert b.tick(later + timedelta(minutes=30)).events == []  # acknowledged: no more


def test_loaner_only_for_annual_contracts_and_visits() -> None:
    annual = book(ContractType.ANNUAL).on_condition(cond(level=Level.L2)).events[0]
    assert annual.loaner_due == T0 + timedelta(hours=48)
    per_visit = book(ContractType.PER_VISIT).on_condition(cond(level=Level.L2)).events[0]
    assert per_visit.loaner_due is None
    remote = book(ContractType.ANNUAL).on_condition(cond(level=Level.L4)).events[0]
    assert remote.onsite_due is None
    assert remote.loaner_due is None


async def test_restart_neither_reopens_nor_forgets(tmp_path: Path) -> None:
    store = await TicketStore(tmp_path / "tickets.db").open()
    b = book()
    decision = b.on_condition(cond(device="sw", code="device.unreachable", level=Level.L1))
    decision.extend(b.on_condition(cond()))
    await store.save(list(decision.changed.values()), decision.closed, [("e1", "t", b"x")])
    await store.close()

    again = await TicketStore(tmp_path / "tickets.db").open()
    assert await again.journal() == [("e1", "t", b"x")]  # not yet handed to the outbox
    loaded = await again.load()
    assert {t.code for t in loaded} == {"device.unreachable", "nvr.camera_offline"}
    b2 = book(loaded=loaded)
    # The switch is still down: its condition is raised again -> no second open.
    d = b2.on_condition(cond(device="sw", code="device.unreachable", level=Level.L1))
    assert d.events == []
    assert b2.after_poll("sw", T0, {("sw", "device.unreachable", "")}).events == []
    # The NVR's cameras came back while the gateway was down -> resolved after a few polls.
    events = []
    for n in range(CONFIRM_POLLS):
        events += b2.after_poll("nvr-1", T0 + timedelta(seconds=30 * n), set()).events
    assert [(e.event, e.fault_code, e.seq) for e in events] == [
        (EventKind.RESOLVE, "nvr.camera_offline", 2)
    ]
    await again.journal_done(["e1"])
    assert await again.journal() == []
    await again.close()


def test_suburban_and_duty_calendar() -> None:
    suburban = ServiceClocks.for_site(SiteZone.SUBURBAN, Clocks())
    assert suburban.onsite_due(Level.L1, T0) == T0 + timedelta(hours=3)
    duty = Duty(
        days=["mon", "tue", "wed", "thu", "fri"],
        start="08:00",
        end="22:30",
        timezone="Asia/Shanghai",
    )
    clocks = ServiceClocks.for_site(SiteZone.URBAN, Clocks(duty=duty))
    # Friday 23:00 Shanghai (15:00 UTC): the 10 minutes start Monday 08:00 Shanghai.
    friday_night = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
    assert clocks.response_due(Level.L1, friday_night) == datetime(2026, 3, 9, 0, 10, tzinfo=UTC)
    # Inside duty time the clock simply runs: Monday 10:00 Shanghai + 1 h.
    monday = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    assert clocks.response_due(Level.L2, monday) == monday + timedelta(hours=1)
    # A span across the night: Monday 22:00 + 1 h = 30 min Monday, 30 min Tuesday 08:00.
    late = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    assert clocks.response_due(Level.L2, late) == datetime(2026, 3, 3, 0, 30, tzinfo=UTC)


def test_round_the_clock_by_default() -> None:
    assert DutyCalendar(None).add(T0, timedelta(hours=5)) == T0 + timedelta(hours=5)


def test_a_bad_duty_calendar_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        Duty(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="before its end"):
        Duty(start="22:00", end="08:00")


def test_a_ticket_stored_without_deadlines_gets_them_when_loaded() -> None:
    """A ticket saved by a version that did not keep its deadlines (only its level and
    start): the book sets them from the start, on-site reminders included."""
    stored = {
        "ticket_id": "s-old", "device": "sw", "code": "device.unreachable", "instance": "",
        "level": 1, "title": "down", "opened_at": T0.isoformat(), "seq": 1,
        "acked_by": "desk", "acked_at": T0.isoformat(), "reminders": 0,
        "next_reminder_at": None,
    }  # fmt: skip
    b = book(loaded=[OpenTicket.from_json(stored)])
    ticket = b.find("s-old")
    assert ticket is not None
    assert (ticket.response_due, ticket.onsite_due, ticket.loaner_due) == (
        T0 + timedelta(minutes=10), T0 + timedelta(hours=2), T0 + timedelta(hours=48)
    )  # fmt: skip
    late = b.tick(T0 + timedelta(hours=2)).events
    assert [e.reminder_kind for e in late] == [ReminderKind.ONSITE]
