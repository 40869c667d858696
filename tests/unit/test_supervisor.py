"""The supervisor: a part that fails is logged once with its traceback, counted, shown
as degraded and restarted with backoff, while the other parts keep running; only a
fatal error (a broken configuration, an unwritable ticket store) stops them all."""

from __future__ import annotations

import asyncio
import logging

import pytest

from gateway.supervisor import Supervisor


class Flaky:
    """Fails ``times`` times, then runs until cancelled."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.starts = 0
        self.running = asyncio.Event()

    async def run(self) -> None:
        self.starts += 1
        if self.starts <= self.times:
            raise ValueError("a bug in the part")
        self.running.set()
        await asyncio.Event().wait()


async def ticking(counter: list[int]) -> None:
    while True:
        counter[0] += 1
        await asyncio.sleep(0.01)


async def test_a_failing_part_restarts_while_the_others_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    supervisor = Supervisor(initial_delay=0.05, max_delay=0.2, healthy_after=0.3)
    flaky = Flaky(times=3)
    ticks = [0]
    caplog.set_level(logging.WARNING, "lvgw.supervisor")
    async with asyncio.TaskGroup() as group:
        parts = [
            group.create_task(supervisor.run("flaky", flaky.run)),
            group.create_task(supervisor.run("ticker", lambda: ticking(ticks))),
        ]
        await asyncio.wait_for(flaky.running.wait(), 5)
        assert supervisor.degraded() == ["flaky"]  # it has not run long enough yet
        assert supervisor.failures() == {"flaky": 3}
        before = ticks[0]
        await asyncio.sleep(0.4)
        assert ticks[0] > before  # the other part never stopped
        assert supervisor.degraded() == []  # healthy again after healthy_after
        assert supervisor.failures() == {"flaky": 3}  # the count stays
        for part in parts:
            part.cancel()
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1, "the traceback is logged once, not at every restart"
    assert "flaky" in tracebacks[0].getMessage()
    again = [r for r in caplog.records if not r.exc_info and "flaky" in r.getMessage()]
    assert len(again) == 2 and "3 times" in again[-1].getMessage()


async def test_the_delay_grows_and_is_capped() -> None:
    supervisor = Supervisor(initial_delay=0.02, max_delay=0.08, healthy_after=10)
    flaky = Flaky(times=6)
    loop = asyncio.get_running_loop()
    started = loop.time()
    task = asyncio.create_task(supervisor.run("flaky", flaky.run))
    try:
        await asyncio.wait_for(flaky.running.wait(), 5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    # 0.02 + 0.04 + 0.08 * 4 at most, and at least half of each (jitter).
    assert 0.01 + 0.02 + 0.04 * 4 <= loop.time() - started < 1.0


class Fatal(Exception):
    pass


async def test_a_fatal_error_stops_everything() -> None:
    supervisor = Supervisor(fatal=lambda exc: isinstance(exc, Fatal))

    async def broken_store() -> None:
        raise Fatal("tickets.db: cannot save ticket state: disk I/O error")

    ticks = [0]

    async def agent() -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(supervisor.run("pipeline", broken_store))
            group.create_task(supervisor.run("ticker", lambda: ticking(ticks)))

    with pytest.raises(ExceptionGroup) as info:
        await agent()
    assert info.group_contains(Fatal)


async def test_a_part_that_returns_is_done() -> None:
    supervisor = Supervisor()
    calls = [0]

    async def once() -> None:
        calls[0] += 1

    await supervisor.run("once", once)
    assert calls == [1] and supervisor.degraded() == []
