"""The ledger's schema, versioned and the same on both engines: ``MIGRATIONS[n]`` takes
version n to n + 1.

Each migration is a tuple of statement templates, written once: ``{id}``, ``{blob}``
and ``{real}`` become each engine's types (center/ledger/sql.py); keep the rest to the
SQL both engines share. Only ever append a migration. SQLite keeps its version in
``PRAGMA user_version`` (gateway/sqlite/database.py: a file written by a newer
lvgw-center is refused); PostgreSQL in the table ``lvgw_center_schema``
(center/ledger/postgres.py), migrated under an advisory lock so workers starting
together migrate once.
"""

from __future__ import annotations

from center.ledger.sql import POSTGRESQL, SQLITE, Dialect
from gateway.sqlite import Schema

# `PRAGMA application_id` marks the file as an lvgw-center ledger ("lvgc").
APPLICATION_ID = int.from_bytes(b"lvgc", "big")

_V1 = (
    # Every accepted event, once (event_id), with the bytes exactly as published.
    # applied: 0 while it waits for its predecessor, 1 once applied to its ticket.
    """CREATE TABLE events (
        event_id TEXT PRIMARY KEY,
        ticket_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        site_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        severity INTEGER NOT NULL,
        payload {blob} NOT NULL,
        received_at {real} NOT NULL,
        applied INTEGER NOT NULL DEFAULT 0,
        UNIQUE (ticket_id, seq)
    )""",
    "CREATE INDEX events_waiting ON events (ticket_id, seq) WHERE applied = 0",
    # What could not be taken, with why: kept for the operator, never applied.
    """CREATE TABLE rejected (
        id {id},
        received_at {real} NOT NULL,
        topic TEXT NOT NULL,
        event_id TEXT,
        reason TEXT NOT NULL,
        payload {blob} NOT NULL
    )""",
    # One row per ticket: its state after the events applied so far (applied_seq), and
    # its on-time record.
    """CREATE TABLE tickets (
        ticket_id TEXT PRIMARY KEY,
        site_id TEXT NOT NULL,
        device_id TEXT,
        fault_code TEXT,
        severity INTEGER,
        title TEXT,
        state TEXT NOT NULL DEFAULT 'waiting',
        applied_seq INTEGER NOT NULL DEFAULT 0,
        opened_at TEXT,
        updated_at TEXT,
        resolved_at TEXT,
        response_due TEXT,
        onsite_due TEXT,
        acknowledged_at TEXT,
        acknowledged_by TEXT,
        arrived_at TEXT,
        departed_at TEXT,
        on_time_response INTEGER,
        on_time_onsite INTEGER,
        gap_flagged_at {real}
    )""",
    "CREATE INDEX tickets_site ON tickets (site_id, state)",
    # The last status each site published (retained `status` topic).
    """CREATE TABLE sites (
        site_id TEXT PRIMARY KEY,
        online INTEGER NOT NULL,
        version TEXT,
        backlog TEXT,
        status TEXT NOT NULL,
        updated_at {real} NOT NULL
    )""",
    # Each adapter's queue: one row per (adapter, event), in the order events were
    # applied (id), so a ticket's events go out in seq order.
    """CREATE TABLE deliveries (
        id {id},
        adapter TEXT NOT NULL,
        event_id TEXT NOT NULL REFERENCES events (event_id),
        ticket_id TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at {real} NOT NULL,
        last_error TEXT,
        delivered_at {real},
        UNIQUE (adapter, event_id)
    )""",
    "CREATE INDEX deliveries_due ON deliveries (adapter, state, ticket_id, id)",
)

_V2 = (
    # Since when the site has been in its current state (online or not): set when a
    # status changes it, kept while the same state is published again.
    "ALTER TABLE sites ADD COLUMN since {real}",
    "UPDATE sites SET since = updated_at",
    # The gateways' answers on acks-reply and cmd-reply/<name>, each once (reply_key:
    # a hash of the topic and the bytes, so a message the broker sends again is not
    # kept twice). topic_kind: "acks" or "cmd/<name>"; ok: 1 or 0.
    """CREATE TABLE replies (
        reply_key TEXT PRIMARY KEY,
        site_id TEXT NOT NULL,
        topic_kind TEXT NOT NULL,
        request_id TEXT,
        ticket_id TEXT,
        ok INTEGER NOT NULL,
        error TEXT,
        payload TEXT NOT NULL,
        received_at {real} NOT NULL
    )""",
    "CREATE INDEX replies_request ON replies (request_id)",
    "CREATE INDEX replies_ticket ON replies (ticket_id, received_at)",
)

_V3 = (
    # Each site's last `health` document (retained: per device its state, worst open
    # level and headline figures), as the gateway published it, and when it came.
    """CREATE TABLE health (
        site_id TEXT PRIMARY KEY,
        document TEXT NOT NULL,
        received_at {real} NOT NULL
    )""",
)

_V4 = (
    # A ticket's first pending delivery per adapter is its head: the only one that may
    # be attempted, the ticket's later ones waiting behind it in seq order. Claims look
    # at heads alone (deliveries_heads), so a claim costs the same however long the
    # queue behind an outage has grown.
    "ALTER TABLE deliveries ADD COLUMN head INTEGER NOT NULL DEFAULT 0",
    "UPDATE deliveries SET head = 1 WHERE state = 'pending' AND id = (SELECT min(p.id)"
    " FROM deliveries p WHERE p.adapter = deliveries.adapter"
    " AND p.ticket_id = deliveries.ticket_id AND p.state = 'pending')",
    "CREATE INDEX deliveries_heads ON deliveries (adapter, next_attempt_at)"
    " WHERE state = 'pending' AND head = 1",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3, _V4)
NAME = "lvgw-center ledger"


def render(dialect: Dialect) -> tuple[tuple[str, ...], ...]:
    """Every migration's statements in ``dialect``'s types."""
    return tuple(tuple(dialect.render(s) for s in migration) for migration in MIGRATIONS)


SCHEMA = Schema(name=NAME, application_id=APPLICATION_ID, migrations=render(SQLITE))
POSTGRESQL_MIGRATIONS = render(POSTGRESQL)
