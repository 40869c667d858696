"""wait_for_items: the uplink wakes up when something is stored, without polling."""

from __future__ import annotations

import asyncio

import pytest

from gateway.outbox import MessageClass, Outbox, OutboxClosedError
from tests.outbox.messages import metric, ticket

WAKE_TIMEOUT = 5.0  # a safety net against a hang, not a readiness wait


async def _still_waiting(outbox: Outbox, waiter: asyncio.Task[None]) -> bool:
    # Two round trips through the worker give the waiter every chance to finish.
    await outbox.stats()
    await outbox.stats()
    return not waiter.done()


async def test_returns_at_once_when_something_waits(outbox: Outbox) -> None:
    await outbox.put(ticket(1))
    await asyncio.wait_for(outbox.wait_for_items(), WAKE_TIMEOUT)


async def test_wakes_up_when_a_message_is_put(outbox: Outbox) -> None:
    waiter = asyncio.create_task(outbox.wait_for_items(), name="waiter")
    assert await _still_waiting(outbox, waiter)
    await outbox.put(ticket(1))
    await asyncio.wait_for(waiter, WAKE_TIMEOUT)


async def test_waits_for_a_message_beyond_those_in_flight(outbox: Outbox) -> None:
    in_flight = await outbox.put(ticket(1))
    waiter = asyncio.create_task(outbox.wait_for_items(after_id=in_flight), name="waiter")
    assert await _still_waiting(outbox, waiter)
    await outbox.put(ticket(2))
    await asyncio.wait_for(waiter, WAKE_TIMEOUT)


async def test_waits_only_for_the_classes_asked_for(outbox: Outbox) -> None:
    waiter = asyncio.create_task(
        outbox.wait_for_items(classes=[MessageClass.TICKET]), name="waiter"
    )
    await outbox.put(metric(1))
    assert await _still_waiting(outbox, waiter)
    await outbox.put(ticket(1))
    await asyncio.wait_for(waiter, WAKE_TIMEOUT)


async def test_close_wakes_a_waiter_with_an_error(outbox: Outbox) -> None:
    waiter = asyncio.create_task(outbox.wait_for_items(), name="waiter")
    assert await _still_waiting(outbox, waiter)
    await outbox.close()
    with pytest.raises(OutboxClosedError):
        await asyncio.wait_for(waiter, WAKE_TIMEOUT)
