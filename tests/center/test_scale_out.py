"""Several lvgw-center workers on one real PostgreSQL behind one shared subscription on
a real mosquitto, run as a user runs them (``python -m center run``): a storm shared,
a worker killed with SIGKILL mid-storm, PostgreSQL restarted mid-stream; and a second
worker on an SQLite ledger refused."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from center.ledger import Ledger, LedgerUrl
from tests.center.scale import (
    BROKER_CONFIG,
    Event,
    HookReceiver,
    publish,
    storm,
    wait_until,
    workers,
    write_config,
)
from tests.postgres import Postgres, running_postgres
from tests.realservers import Mosquitto

pytestmark = pytest.mark.integration


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    server = Mosquitto(tmp_path / "mosquitto", extra_config=BROKER_CONFIG)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def hook() -> AsyncIterator[HookReceiver]:
    receiver = HookReceiver()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()


def ledger_state(url: LedgerUrl) -> tuple[int, dict[str, int], int]:
    """(events stored, applied seq per ticket, events waiting) as the ledger has them."""
    ledger = Ledger.connect(url)
    try:
        tickets = ledger.tickets()
        stored = sum(len(ledger.event_ids(t.ticket_id)) for t in tickets)
        return (
            stored,
            {t.ticket_id: t.applied_seq for t in tickets},
            sum(t.waiting_events for t in tickets),
        )
    finally:
        ledger.close()


def assert_all_once(
    url: LedgerUrl, hook: HookReceiver, events: list[Event], in_flight: int
) -> None:
    stored, applied, waiting = ledger_state(url)
    assert stored == len(events)  # each event once: event_id is unique
    assert waiting == 0
    last = {e.ticket_id: e.seq for e in events}
    assert applied == last
    assert hook.received() == {e.event_id for e in events}
    assert len(hook.duplicates()) <= in_flight, hook.duplicates()
    assert hook.out_of_order() == []
    assert hook.bad_signatures == 0


async def test_two_workers_share_a_storm_each_event_once_in_order(
    tmp_path: Path, broker: Mosquitto, postgres: Postgres, pg_ledger: LedgerUrl, hook: HookReceiver
) -> None:
    events = storm(sites=40, tickets_per_site=5, events_per_ticket=8)  # 1,600 events
    configs = [write_config(tmp_path, broker, pg_ledger, hook, f"w{n}") for n in (1, 2)]
    with workers(configs) as running:
        for worker in running:
            await worker.subscribed()
        await publish(broker, events)
        await wait_until(lambda: hook.received() >= {e.event_id for e in events}, 120,
                         "every event at the webhook")  # fmt: skip
        await asyncio.sleep(0.5)  # nothing more comes: no event twice
        assert all(worker.alive for worker in running)
    assert_all_once(pg_ledger, hook, events, in_flight=0)
    # Both took a share: each worker's ingest wakes its own adapter loop.
    for worker in running:
        assert "subscribed to $share/scale/lvgw/v1/+/tickets" in worker.log()
        assert "Traceback" not in worker.log()


async def test_a_worker_killed_mid_storm_loses_nothing(
    tmp_path: Path, broker: Mosquitto, postgres: Postgres, pg_ledger: LedgerUrl, hook: HookReceiver
) -> None:
    events = storm(sites=40, tickets_per_site=5, events_per_ticket=8)
    configs = [write_config(tmp_path, broker, pg_ledger, hook, f"w{n}") for n in (1, 2)]
    with workers(configs) as running:
        for worker in running:
            await worker.subscribed()
        publishing = asyncio.create_task(publish(broker, events, rate=800.0))
        await wait_until(lambda: len(hook.receipts) >= len(events) // 4, 60, "a quarter delivered")
        running[0].kill()  # mid-storm: messages in flight to it, a delivery maybe mid-send
        await publishing
        await asyncio.sleep(1.0)
        running[0].start()  # its session's unacknowledged messages come back to it
        await running[0].subscribed()
        await wait_until(lambda: hook.received() >= {e.event_id for e in events}, 120,
                         "every event at the webhook")  # fmt: skip
        await asyncio.sleep(0.5)
    # Only the delivery in flight at the kill may come twice (the same X-Lvgw-Event-Id).
    assert_all_once(pg_ledger, hook, events, in_flight=1)


async def test_postgresql_restarted_mid_stream(
    tmp_path: Path, broker: Mosquitto, hook: HookReceiver
) -> None:
    with running_postgres() as server:
        url = LedgerUrl(server.url(server.create_database()), server.password_file)
        events = storm(sites=10, tickets_per_site=4, events_per_ticket=6)
        half = len(events) // 2
        configs = [write_config(tmp_path, broker, url, hook, f"w{n}") for n in (1, 2)]
        with workers(configs) as running:
            for worker in running:
                await worker.subscribed()
            await publish(broker, events[:half])
            await wait_until(lambda: len(hook.received()) >= half, 60, "the first half")
            server.stop()  # a fast shutdown: every connection is closed
            await publish(broker, events[half:])  # the broker takes them; nobody acks
            await wait_until(
                lambda: all("not acknowledging" in w.log() for w in running),
                30, "both workers saying they stopped acknowledging",
            )  # fmt: skip
            assert len(hook.received()) == half
            assert all(worker.alive for worker in running)
            server.start()
            await wait_until(lambda: hook.received() >= {e.event_id for e in events}, 120,
                             "every event at the webhook")  # fmt: skip
            assert all("is back: taking messages again" in w.log() for w in running)
        assert_all_once(url, hook, events, in_flight=0)


async def test_a_second_worker_on_an_sqlite_ledger_is_refused(
    tmp_path: Path, broker: Mosquitto
) -> None:
    database = f"sqlite:///{tmp_path}/center.db"
    first = write_config(tmp_path, broker, database, None, "w1")
    second = write_config(tmp_path, broker, database, None, "w2")
    with workers([first]) as (running,):
        await running.subscribed()
        refused = subprocess.run(
            [sys.executable, "-m", "center", "run", "-c", str(second)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert refused.returncode == 2
        assert f"ledger {tmp_path}/center.db: another lvgw-center worker (pid " in refused.stderr
        assert "use PostgreSQL" not in refused.stderr  # said as below
        assert "give every worker a PostgreSQL ledger" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert running.alive
