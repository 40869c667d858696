"""What the service center can check on the stream it received (docs/mqtt.md).

Delivery is at least once: a consumer keeps the first copy of each ``event_id``. On
what is left, every ticket's ``seq`` must run 1, 2, 3... in arrival order, and an
incident (``dedup_key``) must not be opened again while its ticket is open.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

Event = dict[str, Any]


def first_copies(events: Iterable[Event]) -> list[Event]:
    seen: set[str] = set()
    kept = []
    for event in events:
        if event["event_id"] not in seen:
            seen.add(event["event_id"])
            kept.append(event)
    return kept


def sequence_problems(events: Iterable[Event]) -> list[str]:
    """Gaps, repeats and reordering of ``seq`` per ticket, after deduplication."""
    seqs: dict[str, list[int]] = defaultdict(list)
    for event in first_copies(events):
        seqs[event["ticket_id"]].append(event["seq"])
    return [
        f"ticket {ticket}: seq {got}"
        for ticket, got in seqs.items()
        if got != list(range(1, len(got) + 1))
    ]


def reopen_problems(events: Iterable[Event]) -> list[str]:
    """An ``open`` for an incident whose earlier ticket is not resolved yet."""
    open_ticket: dict[str, str] = {}
    problems = []
    for event in first_copies(events):
        key, ticket = event["dedup_key"], event["ticket_id"]
        if event["event"] == "open":
            if key in open_ticket:
                problems.append(f"{key}: {ticket} opened while {open_ticket[key]} is open")
            open_ticket[key] = ticket
        elif event["event"] == "resolve" and open_ticket.get(key) == ticket:
            del open_ticket[key]
    return problems


def still_open(events: Iterable[Event]) -> set[str]:
    """Tickets opened and not resolved in the stream."""
    tickets: set[str] = set()
    for event in first_copies(events):
        if event["event"] == "open":
            tickets.add(event["ticket_id"])
        elif event["event"] == "resolve":
            tickets.discard(event["ticket_id"])
    return tickets
