"""Taking a batch of ticket events into the ledger, in one transaction of a few
statements whatever its size (a storm is thousands of events a second).

1. Rejections are kept with their reason.
2. Events already in the ledger (by ``event_id``), or twice in the batch, are
   duplicates. The others are inserted (``ON CONFLICT DO NOTHING``: another worker may
   be inserting the same one; its commit decides). One whose ticket already has its
   ``seq`` under another ``event_id`` is rejected, naming that event.
3. The batch's tickets are created if new and their rows locked, in ticket order
   (`Dialect.lock_row`: on PostgreSQL another worker applying the same tickets waits
   for this transaction, and two batches never wait on each other in a circle).
4. Each ticket's waiting events that follow on from its ``applied_seq`` are applied in
   seq order, whichever worker stored them; each applied event queues one delivery per
   adapter that wants it, a ticket's in seq order.

Many-row statements go through ``executemany``: psycopg pipelines them, so the batch
costs a handful of round trips to PostgreSQL, not several per event.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from center.events import Rejection, TicketEvent
from center.ledger.sql import Sql

IngestOutcome = Literal["applied", "waiting", "duplicate", "rejected"]
CHUNK = 500  # values in one IN (...): well under SQLite's and PostgreSQL's limits


@dataclass(frozen=True, slots=True)
class Route:
    """Which events an adapter takes: its levels, its sites and its customers (None:
    every site, every customer)."""

    adapter: str
    levels: frozenset[int]
    sites: frozenset[str] | None = None
    customers: frozenset[str] | None = None

    def wants(self, severity: int, site_id: str, customer: str | None = None) -> bool:
        return (
            severity in self.levels
            and (self.sites is None or site_id in self.sites)
            and (self.customers is None or customer in self.customers)
        )


def ingest_batch(
    sql: Sql, items: Sequence[TicketEvent | Rejection], now: float, routes: Sequence[Route]
) -> list[IngestOutcome]:
    outcomes: list[IngestOutcome | None] = [None] * len(items)
    events: list[tuple[int, TicketEvent]] = []
    for i, item in enumerate(items):
        if isinstance(item, Rejection):
            reject(sql, item, now)
            outcomes[i] = "rejected"
        else:
            events.append((i, item))
    if events:
        _store_events(sql, events, outcomes, now)
        fresh = [(i, e) for i, e in events if outcomes[i] is None]
        applied = _apply_tickets(sql, sorted({e.ticket_id for _i, e in fresh}), now, routes)
        for i, event in fresh:
            outcomes[i] = "applied" if event.event_id in applied else "waiting"
    return [outcome or "rejected" for outcome in outcomes]


def _store_events(
    sql: Sql,
    events: list[tuple[int, TicketEvent]],
    outcomes: list[IngestOutcome | None],
    now: float,
) -> None:
    existing = set(_known(sql, [e.event_id for _i, e in events]))
    seen: set[str] = set()
    new: list[tuple[int, TicketEvent]] = []
    for i, event in events:
        if event.event_id in existing or event.event_id in seen:
            outcomes[i] = "duplicate"
        else:
            seen.add(event.event_id)
            new.append((i, event))
    if not new:
        return
    sql.executemany(
        "INSERT INTO events (event_id, ticket_id, seq, site_id, kind, severity, payload,"
        " received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(e.event_id, e.ticket_id, e.seq, e.site_id, e.kind, e.severity, e.payload, now)
         for _i, e in new],
    )  # fmt: skip
    stored = set(_known(sql, [e.event_id for _i, e in new]))
    for i, event in new:
        if event.event_id not in stored:  # its ticket's seq is another event's
            (taken,) = sql.execute(
                "SELECT event_id FROM events WHERE ticket_id = ? AND seq = ?",
                (event.ticket_id, event.seq),
            ).fetchone()
            reason = f"seq {event.seq} of ticket {event.ticket_id} is already event {taken}"
            reject(sql, Rejection("", event.payload, reason, event.event_id), now)
            outcomes[i] = "rejected"
    sql.executemany(
        "INSERT INTO tickets (ticket_id, site_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        sorted({(e.ticket_id, e.site_id) for i, e in new if outcomes[i] is None}),
    )


def _apply_tickets(sql: Sql, tickets: list[str], now: float, routes: Sequence[Route]) -> set[str]:
    """Apply what follows on from each ticket's applied seq; the event ids applied."""
    applied: set[str] = set()
    if not tickets:
        return applied
    seqs: dict[str, int] = {}
    for chunk in _chunks(tickets):
        marks = ", ".join("?" * len(chunk))
        for ticket_id, seq in sql.execute(
            f"SELECT ticket_id, applied_seq FROM tickets WHERE ticket_id IN ({marks})"
            f" ORDER BY ticket_id{sql.dialect.lock_row}",
            chunk,
        ):
            seqs[ticket_id] = seq
    updates: list[tuple[Any, ...]] = []
    flags: list[tuple[str]] = []
    deliveries: list[tuple[str, str, str, float]] = []
    for chunk in _chunks(tickets):
        marks = ", ".join("?" * len(chunk))
        waiting = sql.execute(
            "SELECT ticket_id, seq, event_id, payload FROM events"
            f" WHERE applied = 0 AND ticket_id IN ({marks}) ORDER BY ticket_id, seq",
            chunk,
        ).fetchall()
        for ticket_id, seq, event_id, payload in waiting:
            if seq != seqs[ticket_id] + 1:
                continue  # waits for its predecessor
            seqs[ticket_id] = seq
            body = json.loads(payload)
            updates.append(_ticket_update(ticket_id, body))
            flags.append((event_id,))
            site = body["site"]
            for route in routes:
                if route.wants(body["severity"], site["id"], site["customer"]["name"]):
                    deliveries.append((route.adapter, event_id, ticket_id, now))
            applied.add(event_id)
    if updates:
        sql.executemany(_UPDATE_TICKET, updates)
        sql.executemany("UPDATE events SET applied = 1 WHERE event_id = ?", flags)
    if deliveries:
        sql.executemany(
            "INSERT INTO deliveries (adapter, event_id, ticket_id, next_attempt_at, head)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            _with_heads(sql, deliveries),
        )
    return applied


def _with_heads(
    sql: Sql, deliveries: list[tuple[str, str, str, float]]
) -> list[tuple[str, str, str, float, int]]:
    """Each new delivery with its head flag: the first of its ticket and adapter is the
    head unless an earlier one is still pending (the ticket's row is locked, so a
    worker finishing that earlier one waits to hand the head on: center/ledger/store.py)."""
    tickets = sorted({ticket_id for _a, _e, ticket_id, _n in deliveries})
    busy: set[tuple[str, str]] = set()
    for chunk in _chunks(tickets):
        marks = ", ".join("?" * len(chunk))
        busy.update(
            (adapter, ticket_id)
            for adapter, ticket_id in sql.execute(
                "SELECT DISTINCT adapter, ticket_id FROM deliveries"
                f" WHERE state = 'pending' AND ticket_id IN ({marks})",
                chunk,
            )
        )
    rows = []
    for adapter, event_id, ticket_id, now in deliveries:
        head = (adapter, ticket_id) not in busy
        busy.add((adapter, ticket_id))
        rows.append((adapter, event_id, ticket_id, now, int(head)))
    return rows


def reject(sql: Sql, item: Rejection, now: float) -> None:
    sql.execute(
        "INSERT INTO rejected (received_at, topic, event_id, reason, payload)"
        " VALUES (?, ?, ?, ?, ?)",
        (now, item.topic, item.event_id, item.reason, item.payload),
    )


def _known(sql: Sql, event_ids: list[str]) -> list[str]:
    """Which of ``event_ids`` the ledger has."""
    found: list[str] = []
    for chunk in _chunks(event_ids):
        marks = ", ".join("?" * len(chunk))
        rows = sql.execute(f"SELECT event_id FROM events WHERE event_id IN ({marks})", chunk)
        found.extend(row[0] for row in rows)
    return found


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


_UPDATE_TICKET = (
    "UPDATE tickets SET applied_seq = ?, device_id = ?, fault_code = ?, severity = ?,"
    " title = ?, state = ?, opened_at = coalesce(opened_at, ?), updated_at = ?,"
    " resolved_at = ?, response_due = ?, onsite_due = ?, acknowledged_at = ?,"
    " acknowledged_by = ?, arrived_at = ?, departed_at = ?, on_time_response = ?,"
    " on_time_onsite = ?, gap_flagged_at = NULL WHERE ticket_id = ?"
)


def _ticket_update(ticket_id: str, body: dict[str, Any]) -> tuple[Any, ...]:
    """`_UPDATE_TICKET`'s values for one applied event."""
    acknowledged = body.get("acknowledged") or {}
    ack_at = acknowledged.get("at")
    arrived_at = body.get("arrived_at")
    emitted = body["emitted_at"]
    response_due, onsite_due = body["response_due"], body.get("onsite_due")
    first_help = _earliest(ack_at, arrived_at)
    on_time_response = _on_time(first_help, response_due, emitted)
    on_time_onsite = None if onsite_due is None else _on_time(arrived_at, onsite_due, emitted)
    state = "resolved" if body["event"] == "resolve" else "open"
    return (body["seq"], body["device"]["id"], body["fault"]["code"], body["severity"],
            body["title"], state, body["occurred_at"], emitted, body.get("resolved_at"),
            response_due, onsite_due, ack_at, acknowledged.get("by"), arrived_at,
            body.get("departed_at"), _int(on_time_response), _int(on_time_onsite),
            ticket_id)  # fmt: skip


def _int(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _earliest(*texts: str | None) -> str | None:
    present = [t for t in texts if t]
    return min(present, key=_instant) if present else None


def _on_time(done_at: str | None, due: str, now: str) -> bool | None:
    """Done by ``due``; False once ``due`` passed undone; None while it may still be."""
    if done_at is not None:
        return _instant(done_at) <= _instant(due)
    return False if _instant(now) > _instant(due) else None
