"""Stopping a task whose cancellation was lost (Python 3.11's asyncio.wait_for can drop
one, CPython gh-86296): `drivers.tasks` cancels it again until it ends, so `lvgw run`,
lvgw-center and the tests' clean-ups stop."""

from __future__ import annotations

import asyncio

import pytest

from drivers.tasks import stop_task, stop_tasks

pytestmark = pytest.mark.unit


async def test_a_part_that_lost_its_cancellation_is_cancelled_again_until_it_ends() -> None:
    cancels_seen = [0]

    async def loses_two_cancellations() -> str:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancels_seen[0] += 1
                if cancels_seen[0] == 3:
                    raise
                # As a library that lost it would: on with the work.

    part = asyncio.create_task(loses_two_cancellations())
    await asyncio.sleep(0)
    async with asyncio.timeout(5):
        await stop_task(part, every=0.01)
    assert part.cancelled()
    assert cancels_seen[0] == 3


async def test_the_callers_own_cancellation_is_not_swallowed() -> None:
    released = asyncio.Event()

    async def ends_only_when_released() -> None:
        while not released.is_set():
            try:
                await released.wait()
            except asyncio.CancelledError:
                continue

    part = asyncio.create_task(ends_only_when_released())
    stopping = asyncio.create_task(stop_task(part, every=0.01))
    await asyncio.sleep(0.05)
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping
    assert not part.done()  # the caller gave up: it did not wait on for the part
    released.set()
    await part


async def test_several_tasks_each_cancelled_until_it_ends() -> None:
    swallowed: list[int] = []

    async def swallows_the_first_cancellation(n: int) -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            swallowed.append(n)  # lost, as in wait_for: the task goes on
        await asyncio.sleep(3600)

    tasks = [asyncio.create_task(swallows_the_first_cancellation(n)) for n in range(3)]
    await asyncio.sleep(0)
    async with asyncio.timeout(5):
        await stop_tasks(*tasks, every=0.01)
    assert sorted(swallowed) == [0, 1, 2]
    assert all(task.cancelled() for task in tasks)
