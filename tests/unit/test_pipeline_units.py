"""Unit tests of single stages: rules, clocks, ticket book, backoff, schedules."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drivers.tasks import stop_tasks
from gateway.config import load_config
from gateway.config.site import Clocks, SiteZone
from gateway.model import Condition, EventKind, Level, Reading
from gateway.poller import DeviceSchedule, PollResult
from gateway.rules import RuleEngine
from gateway.tickets import ServiceClocks, TicketBook

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def site(tmp_path: Path, role: str = "core", levels: str = "") -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(
        "site: {id: s, name: S, customer: {name: C}, contract: {type: annual}}\n"
        "uplink: {mqtt: {host: 127.0.0.1}}\n"
        "devices:\n"
        f"  - {{id: sw, kind: switch, profile: switch-generic, address: 10.0.0.1, role: {role}"
        + (f", levels: {{{levels}}}" if levels else "")
        + "}\n"
    )
    return path


def poll(ok: bool, n: int) -> PollResult:
    ts = T0 + timedelta(seconds=30 * n)
    return PollResult("sw", ts, ok, (Reading("sw", "reachable", ok, ts),))


def run_rules(engine: RuleEngine, pattern: str) -> list[tuple[int, Condition]]:
    out = []
    for n, c in enumerate(pattern):
        out += [(n, cond) for cond in engine.evaluate(poll(c == "+", n))]
    return out


def test_unreachable_raises_after_three_and_clears_after_two(tmp_path: Path) -> None:
    engine = RuleEngine(load_config(site(tmp_path)))
    changes = run_rules(engine, "++--+---+-++---")
    #                            0123456789abcde
    assert [(n, c.active) for n, c in changes] == [(7, True), (11, False), (14, True)]
    raised = changes[0][1]
    assert raised.level == Level.L1  # a core switch
    assert raised.code == "device.unreachable"
    assert raised.since == T0 + timedelta(seconds=30 * 7)
    assert engine.active() == [changes[2][1]]


def test_access_switch_is_level_2_and_site_override_wins(tmp_path: Path) -> None:
    access = RuleEngine(load_config(site(tmp_path, role="access")))
    assert run_rules(access, "---")[0][1].level == Level.L2
    override = RuleEngine(load_config(site(tmp_path, role="core", levels="device.unreachable: 3")))
    assert run_rules(override, "---")[0][1].level == Level.L3


def test_clocks_follow_the_service_rules() -> None:
    urban = ServiceClocks.for_site(SiteZone.URBAN, Clocks())
    suburban = ServiceClocks.for_site(SiteZone.SUBURBAN, Clocks())
    assert [urban.response_due(lvl, T0) - T0 for lvl in Level] == [
        timedelta(minutes=10), timedelta(hours=1), timedelta(hours=2), timedelta(hours=2)
    ]  # fmt: skip
    assert urban.onsite_due(Level.L1, T0) == T0 + timedelta(hours=2)
    assert suburban.onsite_due(Level.L1, T0) == T0 + timedelta(hours=3)
    assert urban.onsite_due(Level.L3, T0) == T0 + timedelta(hours=72)
    assert urban.onsite_due(Level.L4, T0) is None
    custom = ServiceClocks.for_site(SiteZone.URBAN, Clocks(response={Level.L1: 300.0}))
    assert custom.response_due(Level.L1, T0) == T0 + timedelta(minutes=5)


def test_ticket_book_one_ticket_per_incident() -> None:
    book = TicketBook("s", ServiceClocks(), {"sw": "switch"}, now=lambda: T0)
    cond = Condition("sw", "device.unreachable", Level.L1, "down", True, T0)
    opened = book.on_condition(cond).events
    assert book.on_condition(cond).events == []  # still active: no second ticket
    cleared = Condition(
        "sw", "device.unreachable", Level.L1, "down", False, T0 + timedelta(minutes=3)
    )
    resolved = book.on_condition(cleared).events
    assert [e.event for e in opened + resolved] == [EventKind.OPEN, EventKind.RESOLVE]
    assert opened[0].ticket_id == resolved[0].ticket_id
    assert (opened[0].seq, resolved[0].seq) == (1, 2)
    assert opened[0].response_due == T0 + timedelta(minutes=10)
    assert resolved[0].resolved_at == T0 + timedelta(minutes=3)
    assert book.on_condition(cleared).events == []  # nothing open: nothing to resolve
    again = book.on_condition(cond).events
    assert again[0].ticket_id != opened[0].ticket_id  # a new incident, a new ticket


class SlowReader:
    def __init__(self, device: str, delay: float) -> None:
        self.device, self.delay = device, delay

    async def poll(self) -> PollResult:
        await asyncio.sleep(self.delay)
        return PollResult(self.device, datetime.now(UTC), True, ())


class BrokenReader:
    async def poll(self) -> PollResult:
        raise RuntimeError("driver bug")


async def test_one_slow_or_broken_device_never_delays_another() -> None:
    out: asyncio.Queue[PollResult] = asyncio.Queue()
    interval = 0.05
    schedules = [
        DeviceSchedule("slow", SlowReader("slow", 10.0), interval, out, first_delay=0),
        DeviceSchedule("broken", BrokenReader(), interval, out, first_delay=0),
        DeviceSchedule("fast", SlowReader("fast", 0.0), interval, out, first_delay=0),
    ]
    tasks = [asyncio.create_task(s.run(), name=f"test-poll:{s.device_id}") for s in schedules]
    loop = asyncio.get_running_loop()
    started = loop.time()
    seen: list[float] = []
    try:
        while len(seen) < 6:
            result = await asyncio.wait_for(out.get(), 2)
            assert result.device == "fast"
            seen.append(loop.time() - started)
    finally:
        await stop_tasks(*tasks)
    # The fast device kept its own monotonic schedule: 6 polls in about 6 intervals.
    assert seen[-1] < interval * 5 + 0.2


def test_first_poll_is_spread_within_the_interval() -> None:
    out: asyncio.Queue[PollResult] = asyncio.Queue()
    delays = [DeviceSchedule("d", SlowReader("d", 0), 30.0, out).first_delay for _ in range(50)]
    assert all(0 <= d <= 30.0 for d in delays)
    assert max(delays) - min(delays) > 10  # spread, not all at once


@pytest.mark.parametrize("level", list(Level))
def test_levels_have_their_meaning(level: Level) -> None:
    assert level.meaning and int(level) in (1, 2, 3, 4)
