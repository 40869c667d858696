"""When the proactive jobs run: APScheduler 3 triggers, an injectable clock, catch-up.

Each job has an APScheduler trigger (cron in the site's time zone, or an interval)
that says when it is due. In the agent, an `AsyncIOScheduler` fires the triggers in
real time and hands the job's name to `ProactiveScheduler.run`, which runs one job
at a time. Whatever fires a job, the job itself reads the time from the injected
``clock`` and is told its ``slot`` (the latest fire time of its trigger at or before
now), so that a test drives the whole schedule on a controlled clock with
`fire_due` and never waits.

Exactly once, across restarts: each job's last run is kept in proactive.db
(`ProactiveState.last_run`) with the job's own marks (the inspection period, the
announced contract end, the digest's day). On start, a job whose trigger fired while
the agent was stopped runs once (a missed run is caught up, never repeated per
missed slot); a job that already ran in its current slot does not run again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from gateway.proactive.errors import ProactiveError
from gateway.proactive.state import ProactiveState, StateFile

log = logging.getLogger("lvgw.proactive")

Clock = Callable[[], datetime]
JobRun = Callable[[datetime, datetime], Awaitable[None]]  # (now, slot)

# Interval triggers count from a fixed origin, so "hourly" means on the hour whatever
# the start time, and the schedule is the same for every run of the agent.
INTERVAL_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
# A slot further back than this is not looked for: the job simply runs once.
LOOKBACK = timedelta(days=8)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    trigger: Any  # an APScheduler 3 trigger (untyped library)
    run: JobRun


def daily_at(hour: int, minute: int, timezone: Any) -> Any:
    return CronTrigger(hour=hour, minute=minute, timezone=timezone)


def every(interval: timedelta, timezone: Any) -> Any:
    return IntervalTrigger(
        seconds=int(interval.total_seconds()), start_date=INTERVAL_ORIGIN, timezone=timezone
    )


def latest_fire(trigger: Any, now: datetime, after: datetime | None = None) -> datetime | None:
    """The trigger's last fire time at or before ``now`` and after ``after``; None if
    it did not fire in that stretch (looking back at most `LOOKBACK`)."""
    start = now - LOOKBACK if after is None else max(after, now - LOOKBACK)
    latest = None
    fire = trigger.get_next_fire_time(None, start)
    if fire is not None and after is not None and fire <= after:
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
    return latest


class ProactiveScheduler:
    def __init__(self, jobs: Sequence[Job], state_file: StateFile, state: ProactiveState,
                 clock: Clock = utc_now) -> None:  # fmt: skip
        self.jobs = {job.name: job for job in jobs}
        self.state_file = state_file
        self.state = state
        self.clock = clock
        self._saved_marks = state.marks()
        self.apscheduler: AsyncIOScheduler | None = None  # while `run` runs
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._lock = asyncio.Lock()  # one job at a time: they share the state file

    def slot(self, name: str, now: datetime) -> datetime | None:
        """The latest fire time of job ``name`` at or before ``now`` that it has not
        served yet; None when it has run since its trigger last fired."""
        last = self.state.last_run.get(name)
        fire = latest_fire(self.jobs[name].trigger, now, last)
        if fire is None and last is None:
            return now  # did not fire lately and never ran: run once now
        return fire

    async def run_job(self, name: str, slot: datetime | None = None) -> bool:
        """Run job ``name`` now (for ``slot``, default: its current one); True when it
        ran and its run is recorded. Errors are logged; the job runs again next time."""
        async with self._lock:
            now = self.clock()
            slot = slot or now
            try:
                await self.jobs[name].run(now, slot)
                self.state.last_run[name] = now
                marks = self.state.marks()
                durable = marks != self._saved_marks
                await self.state_file.save(self.state, durable=durable)
                self._saved_marks = marks
            except ProactiveError as exc:
                log.error("proactive job %s failed: %s", name, exc)
                return False
            except Exception:
                log.exception("proactive job %s failed", name)
                return False
            return True

    async def fire_due(self) -> list[str]:
        """Run, once each, the jobs whose trigger fired since their last run (at
        ``clock()``): the catch-up at start, and a test's step on a controlled clock."""
        ran = []
        for name in self.jobs:
            slot = self.slot(name, self.clock())
            if slot is not None and await self.run_job(name, slot):
                ran.append(name)
        return ran

    async def _enqueue(self, name: str) -> None:
        self._queue.put_nowait(name)

    async def run(self) -> None:
        """Catch up, then run jobs as APScheduler fires them, until cancelled."""
        scheduler = self.apscheduler = AsyncIOScheduler(timezone=UTC)
        for job in self.jobs.values():
            scheduler.add_job(
                self._enqueue, job.trigger, args=[job.name], id=job.name, name=job.name,
                coalesce=True, max_instances=1, misfire_grace_time=None,
            )  # fmt: skip
        scheduler.start()
        try:
            caught_up = await self.fire_due()
            if caught_up:
                log.info("proactive jobs caught up: %s", ", ".join(caught_up))
            while True:
                name = await self._queue.get()
                slot = self.slot(name, self.clock())
                if slot is not None:  # None: it ran in this slot already (a catch-up)
                    await self.run_job(name, slot)
        finally:
            scheduler.shutdown(wait=False)
            self.apscheduler = None
            # AsyncIOScheduler shuts down in a loop callback: let it run before leaving.
            await asyncio.sleep(0)

    async def close(self) -> None:
        await self.state_file.close()

    def next_runs(self) -> dict[str, datetime | None]:
        """When each job is due next after ``clock()`` (for the status page and docs)."""
        now = self.clock()
        return {name: job.trigger.get_next_fire_time(None, now) for name, job in self.jobs.items()}
