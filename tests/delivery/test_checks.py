"""The stream checks of the acceptance tests catch what they are there to catch."""

from __future__ import annotations

from typing import Any

from tests.delivery.checks import first_copies, reopen_problems, sequence_problems, still_open


def event(event_id: str, kind: str, ticket: str, seq: int, key: str = "s/d/f/") -> dict[str, Any]:
    return {"event_id": event_id, "event": kind, "ticket_id": ticket, "seq": seq, "dedup_key": key}


OPEN_A, RESOLVE_A = event("e1", "open", "A", 1), event("e2", "resolve", "A", 2)


def test_duplicates_are_dropped_keeping_the_first_copy() -> None:
    stream = [OPEN_A, OPEN_A, RESOLVE_A, OPEN_A]
    assert first_copies(stream) == [OPEN_A, RESOLVE_A]
    assert sequence_problems(stream) == []


def test_a_gap_a_reordering_and_a_missing_first_event_are_found() -> None:
    assert sequence_problems([OPEN_A, event("e3", "update", "A", 3)]) == ["ticket A: seq [1, 3]"]
    assert sequence_problems([RESOLVE_A, OPEN_A]) == ["ticket A: seq [2, 1]"]
    assert sequence_problems([RESOLVE_A]) == ["ticket A: seq [2]"]


def test_a_second_open_while_the_first_ticket_is_open_is_found() -> None:
    reopened = [OPEN_A, event("e3", "open", "B", 1)]
    assert reopen_problems(reopened) == ["s/d/f/: B opened while A is open"]
    assert reopen_problems([OPEN_A, RESOLVE_A, event("e3", "open", "B", 1)]) == []
    assert reopen_problems([OPEN_A, event("e3", "open", "B", 1, key="s/other/f/")]) == []


def test_tickets_left_open_are_listed() -> None:
    assert still_open([OPEN_A, event("e3", "open", "B", 1, key="k")]) == {"A", "B"}
    assert still_open([OPEN_A, RESOLVE_A]) == set()
