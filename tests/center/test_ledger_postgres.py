"""The ledger's behaviours on a real PostgreSQL (Debian's), as on SQLite: the same tests
(tests/center/test_ledger.py) on a fresh database each, and what only PostgreSQL has:
its schema version, a foreign database refused, a delivery claimed by one connection
passed over by another."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from center.ledger import Ledger, LedgerUrl
from center.ledger.postgres import LedgerSchemaError
from center.ledger.schema import MIGRATIONS
from tests.center import test_ledger as on_sqlite
from tests.center.events import event_id, ticket_event
from tests.postgres import Postgres

pytestmark = pytest.mark.integration
take = on_sqlite.take

test_an_event_is_stored_once = on_sqlite.test_an_event_is_stored_once
test_an_early_event_waits_for_its_predecessor = (
    on_sqlite.test_an_early_event_waits_for_its_predecessor
)
test_a_gap_is_flagged_after_its_time_and_never_skipped = (
    on_sqlite.test_a_gap_is_flagged_after_its_time_and_never_skipped
)
test_malformed_and_foreign_events_are_kept_as_rejected = (
    on_sqlite.test_malformed_and_foreign_events_are_kept_as_rejected
)
test_deep_json_and_bad_times_are_rejected = on_sqlite.test_deep_json_and_bad_times_are_rejected
test_routes_pick_levels_and_sites = on_sqlite.test_routes_pick_levels_and_sites
test_retries_wait_and_dead_letters_release_the_next = (
    on_sqlite.test_retries_wait_and_dead_letters_release_the_next
)
test_the_on_time_record = on_sqlite.test_the_on_time_record
test_site_status = on_sqlite.test_site_status


@pytest.fixture
def ledger(pg_ledger: LedgerUrl) -> Iterator[Ledger]:
    opened = Ledger.connect(pg_ledger)
    yield opened
    opened.close()


def test_the_schema_is_versioned_and_migrated_once(
    pg_ledger: LedgerUrl, postgres: Postgres
) -> None:
    first, second = Ledger.connect(pg_ledger), Ledger.connect(pg_ledger)
    try:
        take(first, ticket_event("t-1", 1))
        assert [t.ticket_id for t in second.tickets()] == ["t-1"]
    finally:
        first.close()
        second.close()
    database = pg_ledger.url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.admin_url(database)) as conn:
        assert conn.execute("SELECT version FROM lvgw_center_schema").fetchall() == [
            (len(MIGRATIONS),)
        ]
        conn.execute("UPDATE lvgw_center_schema SET version = version + 1")
    newer = Ledger.connect(pg_ledger)
    with pytest.raises(LedgerSchemaError, match="written by a newer lvgw-center"):
        newer.tickets()
    newer.close()


def test_a_database_of_other_tables_is_refused(postgres: Postgres) -> None:
    database = postgres.create_database()
    with psycopg.connect(postgres.admin_url(database), autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    ledger = Ledger.connect(LedgerUrl(postgres.url(database), postgres.password_file))
    with pytest.raises(LedgerSchemaError, match="has tables but is not an lvgw-center ledger"):
        ledger.tickets()
    ledger.close()


def test_a_claimed_delivery_is_passed_over_and_its_ticket_waits(pg_ledger: LedgerUrl) -> None:
    one, other = Ledger.connect(pg_ledger), Ledger.connect(pg_ledger)
    try:
        events = [ticket_event("t-1", 1), ticket_event("t-1", 2, "update"), ticket_event("t-2", 1)]
        for payload in events:
            take(one, payload)
        held = one.claim("hook", 1e9)
        assert held is not None and held.event_id == event_id(events[0])
        # t-1's first is held, so its second waits; t-2's goes to the other worker.
        taken = other.claim("hook", 1e9)
        assert taken is not None and taken.event_id == event_id(events[2])
        third = Ledger.connect(pg_ledger)
        assert third.claim("hook", 1e9) is None
        third.close()
        other.delivered(taken.id, 2.0)
        one.delivered(held.id, 2.0)
        following = other.claim("hook", 1e9)
        assert following is not None and following.event_id == event_id(events[1])
        other.release()
    finally:
        one.close()
        other.close()


def test_a_dead_connection_lets_its_claim_go(pg_ledger: LedgerUrl) -> None:
    one, other = Ledger.connect(pg_ledger), Ledger.connect(pg_ledger)
    try:
        take(one, ticket_event("t-1", 1))
        held = one.claim("hook", 1e9)
        assert held is not None
        assert other.claim("hook", 1e9) is None
        one.close()  # as a killed worker's connection ends
        # The server rolls the dead session back as soon as it sees the socket closed.
        deadline = time.monotonic() + 5
        while (again := other.claim("hook", 1e9)) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert again is not None and again.event_id == held.event_id
        other.release()
    finally:
        other.close()
