"""Reminders are deadlines too: after a restart a loaded ticket reminds at its time on
ticks alone, with no poll of its device in between, and a reminder already sent is not
sent again by the next start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.config.load import load_config
from gateway.model import EventKind, ReminderKind, TicketEvent
from gateway.outbox import Outbox
from gateway.pipeline import Pipeline, load_tickets
from gateway.poller import PollResult
from tests.delivery.site import write_site

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
INTERVAL = timedelta(seconds=30)


def down(n: int) -> PollResult:
    return PollResult("sw-000", T0 + n * INTERVAL, False, (), "timeout")


async def quiet_ticks(pipeline: Pipeline, start: datetime, end: datetime) -> list[TicketEvent]:
    """A tick every 10 s from ``start`` to ``end``, as the agent's ticker, no polls."""
    events: list[TicketEvent] = []
    at = start
    while at <= end:
        events += (await pipeline.tick(at)).events
        at += timedelta(seconds=10)
    return events


async def test_a_loaded_ticket_reminds_on_ticks_alone(tmp_path: Path) -> None:
    site = write_site(tmp_path, "site-s", "{host: 127.0.0.1}", devices=1)
    config = load_config(site)
    state = config.site_file.agent.state_dir
    state.mkdir()
    async with Outbox(state / "outbox.db") as outbox:
        first = Pipeline(config, outbox, await load_tickets(outbox))
        opened = [e for n in range(3) for e in (await first.handle(down(n))).events]
        assert [e.event for e in opened] == [EventKind.OPEN]
        due = opened[0].response_due  # level 2: an hour after the third failed poll
        assert due == T0 + 2 * INTERVAL + timedelta(hours=1)

        # Restarted a minute later; the device is never polled again.
        restarted = Pipeline(config, outbox, await load_tickets(outbox))
        assert restarted._book.awaits_confirmation("sw-000")
        start = T0 + 2 * INTERVAL + timedelta(minutes=1)
        assert await quiet_ticks(restarted, start, due - timedelta(seconds=10)) == []
        reminded = await quiet_ticks(restarted, due, due)
        assert [(e.event, e.reminder_kind, e.reminder_no, e.ticket_id) for e in reminded] == [
            (EventKind.REMINDER, ReminderKind.RESPONSE, 1, opened[0].ticket_id)
        ]

        # Started again: the reminder sent is on file; the next comes two hours later.
        again = Pipeline(config, outbox, await load_tickets(outbox))
        second = due + timedelta(hours=2)
        assert (
            await quiet_ticks(again, due + timedelta(seconds=10), second - timedelta(seconds=10))
            == []
        )
        assert [(e.event, e.reminder_no) for e in await quiet_ticks(again, second, second)] == [
            (EventKind.REMINDER, 2)
        ]
