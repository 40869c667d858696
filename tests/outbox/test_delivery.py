"""Order, acknowledgement, failure and class priority."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.outbox import MessageClass, Outbox, OutboxMessage
from tests.outbox.messages import TICKETS_TOPIC, control, metric, number, ticket


async def test_pending_hands_out_oldest_first_and_ack_deletes(outbox: Outbox) -> None:
    ids = [await outbox.put(ticket(n)) for n in range(5)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 5

    head = await outbox.pending(3)
    assert [m.id for m in head] == ids[:3]
    assert [number(m.payload) for m in head] == [0, 1, 2]
    assert await outbox.pending(3) == head  # handing out removes nothing

    assert await outbox.ack([ids[0], ids[1]]) == 2
    assert [m.id for m in await outbox.pending(10)] == ids[2:]
    assert await outbox.ack([ids[0], 10_000]) == 0  # already gone or never stored


async def test_a_message_comes_back_exactly_as_stored(outbox: Outbox) -> None:
    payload = bytes(range(256)) * 4  # NULs and every other byte value
    sent = OutboxMessage("a/b/c", payload, qos=2, retain=True, message_class=MessageClass.CONTROL)
    message_id = await outbox.put(sent)
    (got,) = await outbox.pending()
    assert (got.id, got.topic, got.payload, got.qos, got.retain) == (
        message_id,
        "a/b/c",
        payload,
        2,
        True,
    )
    assert got.message_class is MessageClass.CONTROL
    assert (got.attempts, got.last_error) == (0, None)


async def test_ids_keep_increasing_after_a_drain_and_a_reopen(db_path: Path) -> None:
    async with Outbox(db_path) as outbox:
        first = [await outbox.put(ticket(n)) for n in range(3)]
        await outbox.ack(first)
    async with Outbox(db_path) as outbox:
        later = await outbox.put(ticket(3))
        assert later > max(first)


async def test_tickets_are_handed_out_before_control_and_metrics(outbox: Outbox) -> None:
    m1 = await outbox.put(metric(1))
    t1 = await outbox.put(ticket(1))
    c1 = await outbox.put(control(1))
    m2 = await outbox.put(metric(2))
    t2 = await outbox.put(ticket(2))

    assert [m.id for m in await outbox.pending(10)] == [t1, t2, c1, m1, m2]
    assert [m.id for m in await outbox.pending(3)] == [t1, t2, c1]
    only_metrics = await outbox.pending(10, classes=[MessageClass.METRIC])
    assert [m.id for m in only_metrics] == [m1, m2]
    # after_id: what the uplink already has in flight is not handed out again
    assert [m.id for m in await outbox.pending(10, after_id=t1)] == [t2, c1, m2]


async def test_a_failed_message_keeps_its_place_and_shows_its_error(outbox: Outbox) -> None:
    ids = [await outbox.put(ticket(n)) for n in range(3)]
    assert await outbox.fail(ids[0], "PUBACK reason 0x87 not authorized")
    assert await outbox.fail(ids[0], "PUBACK reason 0x87 not authorized (again)")

    head = (await outbox.pending(1))[0]
    assert head.id == ids[0]
    assert head.attempts == 2
    assert head.last_error == "PUBACK reason 0x87 not authorized (again)"

    stats = await outbox.stats()
    assert stats.failing == 1
    assert stats.last_failure is not None
    assert stats.last_failure.id == ids[0]
    assert stats.last_failure.topic == TICKETS_TOPIC
    assert stats.last_failure.attempts == 2
    assert stats.last_failure.error.endswith("(again)")

    await outbox.ack([ids[0]])  # delivered on a retry
    stats = await outbox.stats()
    assert (stats.failing, stats.last_failure) == (0, None)
    assert not await outbox.fail(ids[0], "too late")


async def test_concurrent_puts_share_commits_and_keep_call_order(outbox: Outbox) -> None:
    commits_before = await outbox._call(lambda store: store.commits)
    ids = await asyncio.gather(*(outbox.put(ticket(n)) for n in range(200)))

    assert ids == sorted(ids)
    stored = await outbox.pending(500)
    assert [number(m.payload) for m in stored] == list(range(200))
    commits = await outbox._call(lambda store: store.commits)
    assert commits - commits_before < 100  # group commit did its job


async def test_put_many_stores_a_batch_in_order(outbox: Outbox) -> None:
    ids = await outbox.put_many(metric(n) for n in range(50))
    assert ids == sorted(ids)
    assert [number(m.payload) for m in await outbox.pending(100)] == list(range(50))
    assert await outbox.put_many([]) == []


async def test_stats_report_backlog_per_class(db_path: Path) -> None:
    now = [1_000.0]
    async with Outbox(db_path, clock=lambda: now[0]) as outbox:
        await outbox.put(ticket(1, size=100))
        now[0] += 60
        await outbox.put(ticket(2, size=100))
        await outbox.put(metric(1, size=50))
        now[0] += 30
        stats = await outbox.stats()

    tickets = stats.backlog[MessageClass.TICKET]
    assert tickets.messages == 2
    assert tickets.bytes == 2 * (100 + len(TICKETS_TOPIC))
    assert tickets.oldest_age_s == pytest.approx(90)
    assert stats.backlog[MessageClass.METRIC].oldest_age_s == pytest.approx(30)
    assert stats.backlog[MessageClass.CONTROL].messages == 0
    assert stats.backlog[MessageClass.CONTROL].oldest_age_s is None
    assert stats.disk_bytes > 0


async def test_the_backlog_survives_a_reopen(db_path: Path) -> None:
    async with Outbox(db_path) as outbox:
        await outbox.put_many([ticket(1), metric(2), ticket(3)])
        await outbox.fail((await outbox.pending(1))[0].id, "refused")
    async with Outbox(db_path) as outbox:
        stored = await outbox.pending(10)
        stats = await outbox.stats()
    assert [number(m.payload) for m in stored] == [1, 3, 2]
    assert stored[0].attempts == 1
    assert stats.backlog[MessageClass.TICKET].messages == 2
    assert stats.backlog[MessageClass.METRIC].messages == 1
