"""Budgets of the droppable classes: drop-oldest, counted, persisted."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.outbox import ClassBudget, MessageClass, Outbox
from tests.outbox.messages import control, metric, number, ticket


async def test_metrics_beyond_the_message_budget_drop_the_oldest(db_path: Path) -> None:
    budgets = {MessageClass.METRIC: ClassBudget(max_messages=10)}
    async with Outbox(db_path, budgets=budgets) as outbox:
        for n in range(15):
            await outbox.put(metric(n))
        for n in range(30):  # tickets are never touched by the metric budget
            await outbox.put(ticket(n))
        stats = await outbox.stats()
        metrics = await outbox.pending(100, classes=[MessageClass.METRIC])

    assert [number(m.payload) for m in metrics] == list(range(5, 15))
    assert stats.backlog[MessageClass.METRIC].messages == 10
    assert stats.backlog[MessageClass.TICKET].messages == 30
    dropped = stats.dropped[MessageClass.METRIC]
    assert dropped.messages == 5
    assert dropped.bytes == sum(metric(n).size for n in range(5))
    assert stats.dropped[MessageClass.TICKET].messages == 0


async def test_metrics_beyond_the_byte_budget_drop_the_oldest(db_path: Path) -> None:
    one = metric(0, size=1000).size
    budgets = {MessageClass.METRIC: ClassBudget(max_bytes=5 * one)}
    async with Outbox(db_path, budgets=budgets) as outbox:
        await outbox.put_many(metric(n, size=1000) for n in range(8))
        stats = await outbox.stats()
        metrics = await outbox.pending(100)

    assert [number(m.payload) for m in metrics] == [3, 4, 5, 6, 7]
    assert stats.backlog[MessageClass.METRIC].bytes == 5 * one
    assert stats.dropped[MessageClass.METRIC].messages == 3


async def test_control_messages_have_their_own_budget(db_path: Path) -> None:
    budgets = {
        MessageClass.CONTROL: ClassBudget(max_messages=2),
        MessageClass.METRIC: ClassBudget(max_messages=100),
    }
    async with Outbox(db_path, budgets=budgets) as outbox:
        for n in range(5):
            await outbox.put(control(n))
            await outbox.put(metric(n))
        stats = await outbox.stats()
    assert stats.dropped[MessageClass.CONTROL].messages == 3
    assert stats.dropped[MessageClass.METRIC].messages == 0


async def test_dropped_counters_survive_a_reopen(db_path: Path) -> None:
    budgets = {MessageClass.METRIC: ClassBudget(max_messages=3)}
    async with Outbox(db_path, budgets=budgets) as outbox:
        await outbox.put_many(metric(n) for n in range(5))
    async with Outbox(db_path, budgets=budgets) as outbox:
        await outbox.put(metric(5))
        stats = await outbox.stats()
        metrics = await outbox.pending(10)
    assert stats.dropped[MessageClass.METRIC].messages == 3
    assert [number(m.payload) for m in metrics] == [3, 4, 5]


async def test_a_metric_larger_than_its_budget_is_refused(db_path: Path) -> None:
    budgets = {MessageClass.METRIC: ClassBudget(max_bytes=100)}
    async with Outbox(db_path, budgets=budgets) as outbox:
        with pytest.raises(ValueError, match="exceeds the class budget"):
            await outbox.put(metric(1, size=200))
        assert await outbox.pending() == []


def test_tickets_take_no_budget(db_path: Path) -> None:
    with pytest.raises(ValueError, match="never dropped"):
        Outbox(db_path, budgets={MessageClass.TICKET: ClassBudget(max_messages=10)})


def test_a_budget_must_allow_something() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ClassBudget(max_messages=0)
