"""The ledger: each event once, applied in seq order, gaps flagged, rejections kept,
deliveries queued per adapter in ticket order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from center.events import Rejection, parse_ticket_event
from center.ledger import Ledger, LedgerBusyError, LedgerStore, Route
from gateway.sqlite import ForeignFileError, open_database
from gateway.sqlite.database import Schema
from tests.center.events import T0, event_id, ticket_event

pytestmark = pytest.mark.unit
TOPIC = "lvgw/v1/site-001/tickets"
HOOK = Route("hook", frozenset({1, 2}))


def take(ledger: Ledger, payload: bytes, now: float = 100.0, topic: str = TOPIC) -> str:
    return ledger.ingest(parse_ticket_event(topic, payload), now, [HOOK])


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger.open(tmp_path / "center.db")
    yield opened
    opened.close()


def test_an_event_is_stored_once(ledger: Ledger) -> None:
    opened = ticket_event("t-1", 1)
    assert take(ledger, opened) == "applied"
    assert take(ledger, opened) == "duplicate"
    (ticket,) = ledger.tickets()
    assert (ticket.state, ticket.applied_seq, ticket.severity) == ("open", 1, 1)
    assert len(ledger.due("hook", 1e9)) == 1


def test_an_early_event_waits_for_its_predecessor(ledger: Ledger) -> None:
    first, second, third = (ticket_event("t-1", s, k) for s, k in
                            [(1, "open"), (2, "update"), (3, "resolve")])  # fmt: skip
    assert take(ledger, third) == "waiting"
    assert take(ledger, second) == "waiting"
    (ticket,) = ledger.tickets()
    assert (ticket.state, ticket.applied_seq, ticket.waiting_events) == ("waiting", 0, 2)
    assert take(ledger, first) == "applied"
    (ticket,) = ledger.tickets()
    assert (ticket.state, ticket.applied_seq, ticket.waiting_events) == ("resolved", 3, 0)
    # Queued in seq order, and only the ticket's first pending one is due at a time.
    (due,) = ledger.due("hook", 1e9)
    assert due.event_id == event_id(first)
    ledger.delivered(due.id, 200.0)
    (due,) = ledger.due("hook", 1e9)
    assert due.event_id == event_id(second)


def test_a_gap_is_flagged_after_its_time_and_never_skipped(ledger: Ledger) -> None:
    take(ledger, ticket_event("t-1", 1), now=100.0)
    take(ledger, ticket_event("t-1", 3, "resolve"), now=100.0)
    assert ledger.flag_gaps(now=150.0, gap_after=60.0) == []
    assert ledger.flag_gaps(now=161.0, gap_after=60.0) == [("t-1", 2)]
    assert ledger.flag_gaps(now=999.0, gap_after=60.0) == []  # flagged once
    (ticket,) = ledger.tickets()
    assert ticket.gap_flagged
    assert (ticket.state, ticket.applied_seq) == ("open", 1)
    take(ledger, ticket_event("t-1", 2, "update"), now=1000.0)
    (ticket,) = ledger.tickets()
    assert (ticket.state, ticket.applied_seq, ticket.gap_flagged) == ("resolved", 3, False)


def test_malformed_and_foreign_events_are_kept_as_rejected(ledger: Ledger) -> None:
    assert take(ledger, b"{not json") == "rejected"
    assert take(ledger, b'{"schema": "lvgw.ticket-event/1", "event_id": "x"}') == "rejected"
    other_site = ticket_event("t-9", 1, site_id="site-002")
    assert take(ledger, other_site) == "rejected"
    clash = ticket_event("t-1", 1)
    take(ledger, ticket_event("t-1", 1))
    assert take(ledger, clash) == "rejected"
    reasons = [reason for _topic, _id, reason in ledger.rejected()]
    assert reasons[0].startswith("not JSON")
    assert "not a ticket event" in reasons[1]
    assert "'site-002'" in reasons[2]
    assert "seq 1 of ticket t-1 is already event" in reasons[3]
    assert [t.ticket_id for t in ledger.tickets()] == ["t-1"]


def test_deep_json_and_bad_times_are_rejected(ledger: Ledger) -> None:
    assert take(ledger, b"[" * 100_000) == "rejected"
    body = json.loads(ticket_event("t-1", 1))
    body["response_due"] = "soon"
    assert take(ledger, json.dumps(body).encode()) == "rejected"
    reasons = [reason for _topic, _id, reason in ledger.rejected()]
    assert reasons == [
        "not JSON the center takes: nested too deep",
        "not a ticket event: response_due: not an RFC 3339 time: 'soon'",
    ]
    assert ledger.tickets() == []


def test_routes_pick_levels_and_sites(ledger: Ledger) -> None:
    only_2 = Route("l2", frozenset({2}), frozenset({"site-001"}))
    payloads = [ticket_event("t-1", 1, severity=1), ticket_event("t-2", 1, severity=2)]
    for payload in payloads:
        ledger.ingest(parse_ticket_event(TOPIC, payload), 1.0, [HOOK, only_2])
    assert [d.event_id for d in ledger.due("l2", 1e9)] == [event_id(payloads[1])]
    assert len(ledger.due("hook", 1e9)) == 2


def test_retries_wait_and_dead_letters_release_the_next(ledger: Ledger) -> None:
    take(ledger, ticket_event("t-1", 1))
    take(ledger, ticket_event("t-1", 2, "update"))
    (first,) = ledger.due("hook", 1e9)
    ledger.failed(first.id, "503", retry_at=500.0)
    assert ledger.due("hook", 499.0) == []
    assert [d.id for d in ledger.due("hook", 500.0)] == [first.id]
    ledger.failed(first.id, "503", retry_at=None)
    (second,) = ledger.due("hook", 1e9)
    assert second.id != first.id
    assert ledger.delivery_counts() == {"hook": {"dead": 1, "pending": 1}}


def test_the_on_time_record(ledger: Ledger) -> None:
    take(ledger, ticket_event("t-1", 1))
    take(ledger, ticket_event("t-1", 2, "update", acked_at=T0 + timedelta(minutes=5),
                              emitted=T0 + timedelta(minutes=5)))  # fmt: skip
    late = T0 + timedelta(hours=3)
    take(ledger, ticket_event("t-1", 3, "resolve", acked_at=T0 + timedelta(minutes=5),
                              emitted=late))  # fmt: skip
    (ticket,) = ledger.tickets()
    assert (ticket.on_time_response, ticket.on_time_onsite) == (True, False)


def test_site_status(ledger: Ledger) -> None:
    ledger.record_status("site-001", {"state": "online", "version": "0.1.0"}, 5.0)
    ledger.record_status("site-001", {"state": "offline", "version": "0.1.0"}, 6.0)
    (site,) = ledger.sites()
    assert (site["online"], site["version"], site["updated_at"]) == (False, "0.1.0", 6.0)


def test_another_sqlite_file_is_refused(tmp_path: Path) -> None:
    other = open_database(tmp_path / "other.db", Schema("other", 7, (("CREATE TABLE x (a)",),)))
    other.close()
    with pytest.raises(ForeignFileError):
        Ledger.open(tmp_path / "other.db")


async def test_the_store_runs_on_its_thread(tmp_path: Path) -> None:
    async with LedgerStore(tmp_path / "c.db") as store:
        item = parse_ticket_event(TOPIC, ticket_event("t-1", 1))
        assert not isinstance(item, Rejection)
        assert await store.ingest(item, 1.0, [HOOK]) == "applied"
        (due,) = await store.due("hook", 2.0)
        assert due.payload == item.payload


async def test_a_second_worker_on_an_sqlite_ledger_is_refused(tmp_path: Path) -> None:
    async with LedgerStore(tmp_path / "c.db", worker=True):
        with pytest.raises(LedgerBusyError, match=r"another lvgw-center worker \(pid \d+\)"):
            await LedgerStore(tmp_path / "c.db", worker=True).open()
        async with LedgerStore(tmp_path / "c.db"):  # a reader takes no lock
            pass
    async with LedgerStore(tmp_path / "c.db", worker=True):  # free again once stopped
        pass
