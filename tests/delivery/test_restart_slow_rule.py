"""A restart neither re-opens nor falsely resolves a ticket whose rule takes a while to
raise its fault again (``for: 2m``): the loaded ticket waits for the rule's own delay
before it is taken as cleared (regression: it was resolved after three polls and the
fault then opened a second ticket)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.config.load import load_config
from gateway.model import Reading, TicketEvent
from gateway.outbox import Outbox
from gateway.pipeline import Pipeline, load_tickets
from gateway.poller import PollResult
from tests.delivery.site import PROFILE, write_site

SLOW_RULE = """\
  - code: temp.high
    type: check
    title: "{device} runs hot"
    level: 3
    when: {point: temp, gt: 70}
    for: 2m
"""
SLOW_PROFILE = (
    PROFILE.replace(
        "points:\n", "points:\n  temp: {oid: 1.3.6.1.4.1.99.1.0, type: gauge, unit: C}\n"
    )
    + SLOW_RULE
)
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
INTERVAL = timedelta(seconds=30)  # the site file's default poll interval


def poll(n: int, temp: float) -> PollResult:
    ts = T0 + n * INTERVAL
    return PollResult("sw-000", ts, True, (Reading("sw-000", "temp", temp, ts, unit="C"),))


async def run(pipeline: Pipeline, polls: range, temp: float) -> list[TicketEvent]:
    events: list[TicketEvent] = []
    for n in polls:
        events += (await pipeline.handle(poll(n, temp))).events
    return events


async def test_a_slow_rule_keeps_its_ticket_across_a_restart(tmp_path: Path) -> None:
    site = write_site(tmp_path, "site-s", "{host: 127.0.0.1}", devices=1, profile=SLOW_PROFILE)
    config = load_config(site)
    state = config.site_file.agent.state_dir
    state.mkdir()
    async with Outbox(state / "outbox.db") as outbox:
        before = await run(Pipeline(config, outbox, await load_tickets(outbox)), range(6), 80)
        assert [e.event.value for e in before] == ["open"]  # after 2 minutes of heat

        # Restarted while still hot: the rule needs 2 minutes again; no event meanwhile.
        restarted = Pipeline(config, outbox, await load_tickets(outbox))
        assert await run(restarted, range(6, 14), 80) == []
        assert not restarted._book.awaits_confirmation("sw-000")
        # Cooled down: the same ticket resolves, as seq 2.
        after = await run(restarted, range(14, 18), 50)
        assert [(e.event.value, e.ticket_id, e.seq) for e in after] == [
            ("resolve", before[0].ticket_id, 2)
        ]

        # Cleared while the gateway was down: resolved once the rule had its time.
        hot = await run(restarted, range(18, 24), 80)
        assert [e.event.value for e in hot] == ["open"]
        cooled = Pipeline(config, outbox, await load_tickets(outbox))
        events = await run(cooled, range(24, 40), 50)
        assert [(e.event.value, e.ticket_id) for e in events] == [("resolve", hot[0].ticket_id)]
        resolved_at = events[0].resolved_at
        assert resolved_at is not None
        assert resolved_at - (T0 + 24 * INTERVAL) >= timedelta(minutes=2)


async def test_after_a_restart_the_rule_raises_on_a_tick_and_confirms_its_ticket(
    tmp_path: Path,
) -> None:
    """Restarted while hot with one poll since: the rule's two minutes end on a tick,
    with no poll in between; the loaded ticket is confirmed (no second open), and a
    later cool-down resolves it."""
    site = write_site(tmp_path, "site-s", "{host: 127.0.0.1}", devices=1, profile=SLOW_PROFILE)
    config = load_config(site)
    state = config.site_file.agent.state_dir
    state.mkdir()
    async with Outbox(state / "outbox.db") as outbox:
        before = await run(Pipeline(config, outbox, await load_tickets(outbox)), range(6), 80)
        assert [e.event.value for e in before] == ["open"]
        restarted = Pipeline(config, outbox, await load_tickets(outbox))
        assert await run(restarted, range(6, 7), 80) == []
        assert restarted._book.awaits_confirmation("sw-000")
        start = T0 + 6 * INTERVAL
        for second in range(1, 121):  # ticks only, as the agent's ticker
            decision = await restarted.tick(start + timedelta(seconds=second))
            assert decision.events == []
        active = restarted._rules.active("sw-000")
        assert [(c.code, c.since) for c in active] == [("temp.high", start + timedelta(minutes=2))]
        assert restarted._book.open[("sw-000", "temp.high", "")].confirmed
        after = await run(restarted, range(11, 13), 50)
        assert [(e.event.value, e.ticket_id, e.seq) for e in after] == [
            ("resolve", before[0].ticket_id, 2)
        ]
