"""Inspections due and the contract expiry notice, on a controlled clock with restarts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema

from gateway.config import load_config
from gateway.proactive.state import ProactiveState
from tests.proactive.conftest import Gateway, shanghai, write_site

SCHEMA = __import__("json").loads(Path("docs/schemas/ticket-event.schema.json").read_text())
ANNUAL = "{type: annual, ends: 2027-06-30}"


def opened(events: list[dict[str, Any]], code: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == "open" and e["fault"]["code"] == code]


def resolved(events: list[dict[str, Any]], code: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == "resolve" and e["fault"]["code"] == code]


async def test_a_contract_year_of_inspections_with_restarts_opens_each_period_once(
    gateway_factory: Callable[..., Gateway],
) -> None:
    start = shanghai(2026, 6, 20, 9)
    gateway = gateway_factory(ANNUAL, start, with_metrics=False)
    await gateway.start()
    when = start
    day = 0
    # A check every day at 08:30 site time for a year and a bit, some at 02:00 too
    # (before the day's slot), restarting the agent every 9 days.
    while when < shanghai(2027, 7, 10):
        day += 1
        base = shanghai(2026, 6, 20) + timedelta(days=day)
        hours = (2, 8.5) if day % 4 == 0 else (8.5,)
        for hour in hours:
            when = base + timedelta(hours=hour)
            await gateway.step(when)
        if day % 9 == 0:
            await gateway.restart()

    events = await gateway.ticket_events("pm.due")
    for event in events:
        jsonschema.validate(event, SCHEMA)
    opens = opened(events, "pm.due")
    assert [e["fault"]["instance"] for e in opens] == [
        "2026-07-01", "2026-10-01", "2027-01-01", "2027-04-01"
    ]  # fmt: skip
    # Filed at the first run at or after 08:00 on the due day (site time).
    assert [e["occurred_at"] for e in opens] == [
        "2026-07-01T00:30:00.000Z", "2026-10-01T00:30:00.000Z",
        "2027-01-01T00:30:00.000Z", "2027-04-01T00:30:00.000Z",
    ]  # fmt: skip
    first = opens[0]
    assert first["severity"] == 4
    assert first["device"]["id"] == "gateway" and first["device"]["kind"] == "gateway"
    assert first["title"] == (
        "Preventive maintenance due: quarterly inspection of Harbour Depot "
        "(from 2026-07-01, next due 2026-10-01)"
    )
    assert first["onsite_due"] is None  # level 4: no visit clock
    # Each period's ticket is resolved when the next opens; the last when the contract ends.
    closes = resolved(events, "pm.due")
    assert [e["ticket_id"] for e in closes] == [e["ticket_id"] for e in opens]
    assert closes[-1]["resolved_at"] == "2027-07-01T00:30:00.000Z"
    assert len(events) == 8


async def test_a_period_missed_while_stopped_is_caught_up_once_at_start(
    gateway_factory: Callable[..., Gateway],
) -> None:
    gateway = gateway_factory(ANNUAL, shanghai(2026, 9, 20, 9))
    await gateway.start()
    await gateway.step(shanghai(2026, 9, 20, 9))
    await gateway.stop()  # down from September 20 to October 15, 03:00 site time
    gateway.clock.set(shanghai(2026, 10, 15, 3))
    scheduler = await gateway.start()
    assert await scheduler.fire_due() == ["inspection", "contract_expiry", "digest", "forecast"]
    assert await scheduler.fire_due() == []  # caught up: nothing more until the next slot
    await gateway.step(shanghai(2026, 10, 15, 8, 0))
    await gateway.restart()
    await gateway.step(shanghai(2026, 10, 15, 8, 1))
    events = await gateway.ticket_events("pm.due")
    # The July period was under way at the first start: the first ticket is October's.
    assert [(e["event"], e["fault"]["instance"]) for e in events] == [("open", "2026-10-01")]
    assert events[0]["occurred_at"] == "2026-10-14T19:00:00.000Z"  # at the catch-up


async def test_a_lost_state_write_never_sends_twice(
    gateway_factory: Callable[..., Gateway],
) -> None:
    gateway = gateway_factory(ANNUAL, shanghai(2026, 9, 30, 9))
    await gateway.start()
    await gateway.step(shanghai(2026, 9, 30, 9))
    assert gateway.scheduler is not None
    before = gateway.scheduler.state.to_json()
    await gateway.step(shanghai(2026, 10, 1, 8, 5))  # opens the October ticket
    # As if the agent died after the ticket was saved but before its memory was.
    await gateway.scheduler.state_file.save(ProactiveState.from_json(before))
    await gateway.stop()
    await gateway.start()
    assert gateway.scheduler is not None
    assert gateway.scheduler.state.inspection_due == "2026-07-01"  # the memory is behind
    await gateway.step(shanghai(2026, 10, 1, 8, 6))
    events = await gateway.ticket_events("pm.due")
    assert [(e["event"], e["fault"]["instance"]) for e in events] == [("open", "2026-10-01")]
    assert gateway.scheduler.state.inspection_due == "2026-10-01"  # and caught up


async def test_the_expiry_notice_goes_once_a_month_ahead_and_resolves_at_the_end(
    gateway_factory: Callable[..., Gateway],
) -> None:
    gateway = gateway_factory(ANNUAL, shanghai(2027, 5, 20, 12), with_metrics=False)
    await gateway.start()
    when = shanghai(2027, 5, 20, 12)
    while when < shanghai(2027, 7, 3):
        when += timedelta(hours=7)
        await gateway.step(when)
        if when.hour in (0, 1, 2, 3, 4, 5, 6):  # a restart now and then
            await gateway.restart()
    events = await gateway.ticket_events("contract.expiring")
    assert [e["event"] for e in events] == ["open", "resolve"]
    notice = events[0]
    assert notice["severity"] == 4
    assert notice["fault"]["instance"] == "2027-06-30"
    # The first run on or after May 30, 08:00 site time (steps of 7 h from May 20, 12:00).
    occurred = datetime.fromisoformat(notice["occurred_at"].replace("Z", "+00:00"))
    assert shanghai(2027, 5, 30, 8) <= occurred < shanghai(2027, 5, 30, 8) + timedelta(hours=7)
    assert notice["title"] == (
        "Maintenance contract (annual) of Harbour Logistics ends 2027-06-30, in 31 days: "
        "contact the customer about renewal"
    )
    ended = datetime.fromisoformat(events[1]["resolved_at"].replace("Z", "+00:00"))
    assert shanghai(2027, 7, 1) <= ended < shanghai(2027, 7, 2)


async def test_a_renewed_contract_resolves_the_notice_and_gets_its_own_next_year(
    gateway_factory: Callable[..., Gateway], tmp_path: Path
) -> None:
    gateway = gateway_factory(ANNUAL, shanghai(2027, 6, 1, 9))
    await gateway.start()
    await gateway.step(shanghai(2027, 6, 1, 9))
    renewed = load_config(write_site(tmp_path / "site", "{type: annual, ends: 2028-06-30}"))
    await gateway.restart(renewed)
    await gateway.step(shanghai(2027, 6, 2, 9))
    await gateway.step(shanghai(2028, 5, 29, 9))
    await gateway.restart(renewed)
    await gateway.step(shanghai(2028, 5, 30, 9))
    await gateway.step(shanghai(2028, 5, 31, 9))
    events = await gateway.ticket_events("contract.expiring")
    assert [(e["event"], e["fault"]["instance"]) for e in events] == [
        ("open", "2027-06-30"), ("resolve", "2027-06-30"), ("open", "2028-06-30")
    ]  # fmt: skip


async def test_per_visit_contracts_get_no_inspection_tickets(
    gateway_factory: Callable[..., Gateway],
) -> None:
    gateway = gateway_factory(
        "{type: per_visit, ends: 2027-06-30}", shanghai(2026, 6, 20, 9), with_metrics=False
    )
    await gateway.start()
    for days in range(0, 200, 5):
        await gateway.step(shanghai(2026, 6, 20, 9) + timedelta(days=days))
    assert await gateway.ticket_events("pm.due") == []
