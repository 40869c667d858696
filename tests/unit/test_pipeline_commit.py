"""A decision's ticket state and its events commit in one outbox transaction; a batch
of decisions in one; a full outbox is waited out; an earlier ticket store migrates."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gateway import pipeline as pipeline_module
from gateway.config.load import load_config
from gateway.model import Condition, EventKind, Level
from gateway.outbox import MessageClass, Outbox, OutboxFullError
from gateway.pipeline import Pipeline, load_tickets
from gateway.poller import PollResult
from gateway.tickets import ServiceClocks, TicketBook
from gateway.tickets.store import RECORD_PREFIX, TicketStore
from tests.outbox.messages import ticket
from tests.unit.small_site import write_small_site

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def poll(device: str, ok: bool, n: int) -> PollResult:
    return PollResult(device, T0 + timedelta(seconds=30 * n), ok, ())


async def commits(outbox: Outbox) -> int:
    """Transactions the outbox committed (white box: its store's counter)."""
    return await outbox._call(lambda store: store.commits)


async def test_a_decision_is_one_transaction_and_a_batch_too(tmp_path: Path) -> None:
    config = load_config(write_small_site(tmp_path))
    state = config.site_file.agent.state_dir
    state.mkdir()
    async with Outbox(state / "outbox.db") as outbox:
        pipeline = Pipeline(config, outbox, await load_tickets(outbox))
        for n in range(2):
            await pipeline.handle(poll("sw", False, n))
        before = await commits(outbox)
        opened = await pipeline.handle(poll("sw", False, 2))  # the third: opens the ticket
        assert [e.event for e in opened.events] == [EventKind.OPEN]
        assert await commits(outbox) == before + 1
        records = await outbox.records(RECORD_PREFIX)
        assert list(records) == [RECORD_PREFIX + opened.events[0].ticket_id]
        waiting = await outbox.pending(10, classes=(MessageClass.TICKET,))
        assert [json.loads(m.payload)["event_id"] for m in waiting] == [opened.events[0].event_id]

        # Two devices fail together: three rounds decided as one batch, one commit.
        before = await commits(outbox)
        batch = [poll(d, False, n) for n in range(3) for d in ("nvr", "ups")]
        decided = await pipeline.handle_batch(batch)
        assert sorted(e.device_id for e in decided.events) == ["nvr", "ups"]
        assert await commits(outbox) == before + 1
        assert len(await outbox.records(RECORD_PREFIX)) == 3

        # Resolved: the record goes in the transaction that stores the resolve.
        for n in range(3, 5):
            await pipeline.handle(poll("sw", True, n))
        assert len(await outbox.records(RECORD_PREFIX)) == 2
    async with Outbox(state / "outbox.db") as outbox:
        assert sorted(t.device for t in await load_tickets(outbox)) == ["nvr", "ups"]


async def fill(outbox: Outbox) -> list[int]:
    """Tickets until not even a small one fits."""
    stored: list[int] = []
    for size in (2000, 200, 20):
        try:
            for n in range(10_000):
                stored.append(await outbox.put(ticket(n, size=size)))
        except OutboxFullError:
            continue
    return stored


async def test_a_full_outbox_is_waited_out_and_loses_no_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline_module, "FULL_RETRY_FIRST", 0.01)
    config = load_config(write_small_site(tmp_path))
    state = config.site_file.agent.state_dir
    state.mkdir()
    async with Outbox(state / "outbox.db", max_db_bytes=256 * 1024) as outbox:
        pipeline = Pipeline(config, outbox, await load_tickets(outbox))
        stored = await fill(outbox)
        for n in range(2):
            await pipeline.handle(poll("sw", False, n))
        deciding = asyncio.create_task(pipeline.handle(poll("sw", False, 2)))
        await asyncio.sleep(0.2)
        assert not deciding.done()  # waits for room, holding the decision
        await outbox.ack(stored[:20])  # delivered: room again
        decided = await asyncio.wait_for(deciding, 10)
        assert [e.event for e in decided.events] == [EventKind.OPEN]
        waiting = await outbox.pending(1000, classes=(MessageClass.TICKET,))
        assert json.loads(waiting[-1].payload)["event_id"] == decided.events[0].event_id
        assert len(await outbox.records(RECORD_PREFIX)) == 1


async def test_an_earlier_ticket_store_moves_into_the_outbox_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy = tmp_path / "tickets.db"
    book = TicketBook("s", ServiceClocks(), {"sw": "switch"}, now=lambda: T0)
    decision = book.on_condition(
        Condition("sw", "device.unreachable", Level.L1, "sw unreachable", True, T0)
    )
    async with TicketStore(legacy) as store:  # as an earlier lvgw left it after a crash
        await store.save(list(decision.changed.values()), [], [("e1", "t/tickets", b"{}")])

    async with Outbox(tmp_path / "outbox.db") as outbox:

        def crash(path: Path) -> None:
            raise OSError("killed before the file was set aside")

        monkeypatch.setattr(pipeline_module, "_set_aside", crash)
        with pytest.raises(OSError, match="killed"):
            await load_tickets(outbox, legacy)
        monkeypatch.undo()
        loaded = await load_tickets(outbox, legacy)  # again: taken once, not twice
        assert [(t.device, t.code) for t in loaded] == [("sw", "device.unreachable")]
        waiting = await outbox.pending(10, classes=(MessageClass.TICKET,))
        assert [(m.topic, m.payload) for m in waiting] == [("t/tickets", b"{}")]
    assert not legacy.exists()
    assert (tmp_path / "tickets.db.migrated").exists()
    async with Outbox(tmp_path / "outbox.db") as outbox:
        assert [t.ticket_id for t in await load_tickets(outbox, legacy)] == [loaded[0].ticket_id]
        assert len(await outbox.pending(10)) == 1
