"""The daily digest on a controlled clock, and the jobs fired by a real AsyncIOScheduler."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from drivers.tasks import stop_task
from gateway.model import EventKind, Level, TicketEvent
from gateway.outbox import MessageClass
from gateway.proactive.scheduler import Job, ProactiveScheduler, daily_at, every
from gateway.proactive.state import StateFile
from gateway.snapshot import StatusSnapshot
from tests.proactive.conftest import Gateway, shanghai

STATUS = StatusSnapshot.model_validate({
    "site": {"id": "site-pm", "name": "Harbour Depot", "customer": "Harbour Logistics"},
    "generated_at": "2026-04-02T00:00:00.000Z",
    "agent": {"version": "0.1.0", "pid": 1},
    "uplink": {"connected": False, "backlog": {"ticket": 2}},
    "devices": [
        {"id": "sw-core", "kind": "switch", "address": "10.0.0.1", "reachable": True},
        {"id": "sw-2", "kind": "switch", "address": "10.0.0.2", "reachable": False,
         "worst_level": 2},
        {"id": "ups-1", "kind": "ups", "address": "10.0.0.3", "reachable": None},
    ],
    "open_tickets": [
        {
            "ticket_id": "t-1", "device": "sw-2", "fault": "device.unreachable", "instance": None,
            "severity": 2, "title": "Switch sw-2 is unreachable",
            "occurred_at": "2026-04-01T00:50:00.000Z",
            "response_due": "2026-04-01T01:00:00.000Z", "acknowledged_by": None,
        },
        {
            "ticket_id": "t-2", "device": "nvr-1", "fault": "forecast.disk_full", "instance": "1",
            "severity": 3, "title": "Disk 1 of nvr-1 forecast to be full by 2026-04-09",
            "occurred_at": "2026-04-01T00:00:00.000Z",
            "response_due": "2026-04-01T02:00:00.000Z", "acknowledged_by": "desk",
        },
    ],
})  # fmt: skip


async def digests(gateway: Gateway) -> list[tuple[str, dict[str, Any]]]:
    return await gateway.messages(MessageClass.CONTROL)


async def test_one_digest_a_day_across_restarts_and_one_catch_up_after_a_stop(
    gateway_factory: Callable[..., Gateway],
) -> None:
    start = shanghai(2026, 4, 1, 12)
    gateway = gateway_factory("{type: annual, ends: 2027-06-30}", start, status=lambda: STATUS)
    await gateway.start()
    assert gateway.history is not None
    resolved_at = shanghai(2026, 4, 2, 6)
    await gateway.history.record([
        TicketEvent(
            "e-1", EventKind.RESOLVE, "t-0", 3, Level.L3, "Port 7 of sw-core is down", "sw-core",
            "switch", "port.down", shanghai(2026, 4, 2, 5), resolved_at, resolved_at,
            None, instance="7", resolved_at=resolved_at,
        )
    ])  # fmt: skip
    when = start
    for hour in range(1, 60):  # hourly for two and a half days, restarting every 7 hours
        when = start + timedelta(hours=hour)
        await gateway.step(when)
        if hour % 7 == 0:
            await gateway.restart()
    sent = await digests(gateway)
    # Nothing at the first start (12:00): the first is 07:00 on the 2nd, then the 3rd.
    assert [body["day"] for _, body in sent] == ["2026-04-02", "2026-04-03"]
    topic, second = sent[0]
    assert topic == "lvgw/v1/site-pm/digest"
    assert second["schema"] == "lvgw.digest/1"
    assert second["generated_at"] == "2026-04-01T23:00:00.000Z"  # 07:00 in Shanghai
    assert second["site"]["customer"]["name"] == "Harbour Logistics"
    assert second["devices"] == {
        "total": 3,
        "unreachable": ["sw-2"],
        "not_polled": ["ups-1"],
        "with_open_tickets": {"sw-2": 2},
    }
    tickets = second["open_tickets"]
    assert tickets["count"] == 2
    assert tickets["by_severity"] == {"1": 0, "2": 1, "3": 1, "4": 0}
    assert tickets["overdue_response"] == ["t-1"]  # t-2 is acknowledged
    assert [f["ticket_id"] for f in tickets["forecasts"]] == ["t-2"]
    assert [r["ticket_id"] for r in second["last_24h"]["resolved"]] == ["t-0"]
    assert second["contract"] == {"next_inspection_due": "2026-07-01", "days_to_end": 454}
    assert second["uplink_backlog"] == {"ticket": 2}
    assert sent[1][1]["last_24h"]["resolved"] == []  # a day later it is no longer recent

    # Stopped from the 3rd, 08:00 to the 6th, 10:00: one digest for the missed slots.
    await gateway.stop()
    gateway.clock.set(shanghai(2026, 4, 6, 10))
    await gateway.start()
    assert "digest" in await gateway.step(shanghai(2026, 4, 6, 10))
    await gateway.step(shanghai(2026, 4, 6, 11))
    assert [body["day"] for _, body in await digests(gateway)][2:] == ["2026-04-06"]


async def test_the_slot_of_a_daily_job_is_in_the_site_time_zone(tmp_path: Path) -> None:
    ran: list[tuple[datetime, datetime]] = []

    async def job(now: datetime, slot: datetime) -> None:
        ran.append((now, slot))

    state_file = await StateFile(tmp_path).open()
    try:
        scheduler = ProactiveScheduler(
            [Job("daily", daily_at(7, 0, "Asia/Shanghai"), job)],
            state_file,
            await state_file.load(),
        )
        now = datetime(2026, 4, 1, 22, 59, tzinfo=UTC)  # 06:59 on the 2nd in Shanghai
        assert scheduler.slot("daily", now) == datetime(2026, 3, 31, 23, 0, tzinfo=UTC)
        scheduler.state.last_run["daily"] = now
        assert scheduler.slot("daily", now) is None
        assert scheduler.slot("daily", now + timedelta(minutes=1)) == now + timedelta(minutes=1)
        assert scheduler.next_runs()["daily"] is not None
    finally:
        await state_file.close()


async def test_apscheduler_fires_the_jobs_and_stops_cleanly(tmp_path: Path) -> None:
    ran: list[str] = []
    fired = asyncio.Event()

    def recorder(name: str) -> Callable[[datetime, datetime], Any]:
        async def job(now: datetime, slot: datetime) -> None:
            ran.append(name)
            fired.set()

        return job

    state_file = await StateFile(tmp_path).open()
    jobs = [
        Job("hourly", every(timedelta(hours=1), UTC), recorder("hourly")),
        Job("daily", daily_at(7, 0, UTC), recorder("daily")),
    ]
    scheduler = ProactiveScheduler(jobs, state_file, await state_file.load())
    task = asyncio.create_task(scheduler.run(), name="proactive")
    try:
        async with asyncio.timeout(5):
            while len(ran) < 2:  # the first start catches both up
                fired.clear()
                await fired.wait()
        assert sorted(ran) == ["daily", "hourly"]
        assert await scheduler.fire_due() == []
        assert scheduler.apscheduler is not None
        # The hourly slot is served; make APScheduler fire it now, as a new slot would.
        scheduler.state.last_run["hourly"] -= timedelta(hours=1)
        fired.clear()
        scheduler.apscheduler.modify_job("hourly", next_run_time=datetime.now(UTC))
        async with asyncio.timeout(5):
            await fired.wait()
        assert ran[2:] == ["hourly"]
        # Fired again within its slot, the daily job does not run twice; the hourly one
        # fired after it (one job at a time, in order) shows the daily firing was handled.
        scheduler.apscheduler.modify_job("daily", next_run_time=datetime.now(UTC))
        scheduler.state.last_run["hourly"] -= timedelta(hours=1)
        fired.clear()
        scheduler.apscheduler.modify_job("hourly", next_run_time=datetime.now(UTC))
        async with asyncio.timeout(5):
            await fired.wait()
        assert ran[2:] == ["hourly", "hourly"]
    finally:
        await stop_task(task, reraise=True)
        await state_file.close()
    assert scheduler.apscheduler is None
    async with StateFile(tmp_path) as saved:
        assert set((await saved.load()).last_run) == {"hourly", "daily"}
