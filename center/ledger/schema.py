"""The ledger's SQLite schema, versioned: ``migrations[n]`` takes version n to n + 1.

Only ever append a migration; a file written by a newer lvgw-center is refused
(gateway/sqlite/database.py).
"""

from __future__ import annotations

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
        payload BLOB NOT NULL,
        received_at REAL NOT NULL,
        applied INTEGER NOT NULL DEFAULT 0,
        UNIQUE (ticket_id, seq)
    )""",
    "CREATE INDEX events_waiting ON events (ticket_id, seq) WHERE applied = 0",
    # What could not be taken, with why: kept for the operator, never applied.
    """CREATE TABLE rejected (
        id INTEGER PRIMARY KEY,
        received_at REAL NOT NULL,
        topic TEXT NOT NULL,
        event_id TEXT,
        reason TEXT NOT NULL,
        payload BLOB NOT NULL
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
        gap_flagged_at REAL
    )""",
    "CREATE INDEX tickets_site ON tickets (site_id, state)",
    # The last status each site published (retained `status` topic).
    """CREATE TABLE sites (
        site_id TEXT PRIMARY KEY,
        online INTEGER NOT NULL,
        version TEXT,
        backlog TEXT,
        status TEXT NOT NULL,
        updated_at REAL NOT NULL
    )""",
    # Each adapter's queue: one row per (adapter, event), in the order events were
    # applied (id), so a ticket's events go out in seq order.
    """CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        adapter TEXT NOT NULL,
        event_id TEXT NOT NULL REFERENCES events (event_id),
        ticket_id TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        last_error TEXT,
        delivered_at REAL,
        UNIQUE (adapter, event_id)
    )""",
    "CREATE INDEX deliveries_due ON deliveries (adapter, state, ticket_id, id)",
)

_V2 = (
    # Since when the site has been in its current state (online or not): set when a
    # status changes it, kept while the same state is published again.
    "ALTER TABLE sites ADD COLUMN since REAL",
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
        received_at REAL NOT NULL
    )""",
    "CREATE INDEX replies_request ON replies (request_id)",
    "CREATE INDEX replies_ticket ON replies (ticket_id, received_at)",
)

SCHEMA = Schema(name="lvgw-center ledger", application_id=APPLICATION_ID, migrations=(_V1, _V2))
