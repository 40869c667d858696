"""The pipeline's event API: listeners are told of each batch of ticket events once it
is durable, until they unsubscribe."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.config import load_config
from gateway.model import EventKind, TicketEvent
from gateway.outbox import MessageClass, Outbox
from gateway.pipeline import EventListener, Pipeline, load_tickets
from gateway.poller import PollResult
from tests.unit.small_site import write_small_site

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def poll(ok: bool, n: int) -> PollResult:
    return PollResult("sw", T0 + timedelta(seconds=30 * n), ok, ())


async def test_listeners_hear_durable_batches_until_they_unsubscribe(tmp_path: Path) -> None:
    config = load_config(write_small_site(tmp_path))
    state = config.site_file.agent.state_dir
    state.mkdir()
    async with Outbox(state / "outbox.db") as outbox:
        pipeline = Pipeline(config, outbox, await load_tickets(outbox))
        heard: list[tuple[str, list[EventKind], int]] = []

        def listener(name: str) -> EventListener:
            async def told(events: Sequence[TicketEvent]) -> None:
                # Durable before anyone is told: the events are in the outbox already.
                queued = await outbox.pending(100, classes=(MessageClass.TICKET,))
                heard.append((name, [e.event for e in events], len(queued)))

            return told

        stop_first = pipeline.subscribe(listener("first"))
        pipeline.subscribe(listener("second"))
        for n in range(3):  # the third failed poll opens the ticket
            await pipeline.handle(poll(False, n))
        assert heard == [
            ("first", [EventKind.OPEN], 1),
            ("second", [EventKind.OPEN], 1),
        ]
        assert [t.device for t in pipeline.open_tickets.values()] == ["sw"]

        stop_first()
        stop_first()  # twice does no harm
        heard.clear()
        for n in range(3, 5):  # two good polls resolve it
            await pipeline.handle(poll(True, n))
        assert heard == [("second", [EventKind.RESOLVE], 2)]
        assert not pipeline.open_tickets


async def test_a_listener_that_unsubscribes_while_told_does_not_skip_the_next(
    tmp_path: Path,
) -> None:
    config = load_config(write_small_site(tmp_path))
    state = config.site_file.agent.state_dir
    state.mkdir()
    async with Outbox(state / "outbox.db") as outbox:
        pipeline = Pipeline(config, outbox, await load_tickets(outbox))
        told: list[str] = []

        async def once(events: Sequence[TicketEvent]) -> None:
            told.append("once")
            stop_once()

        async def always(events: Sequence[TicketEvent]) -> None:
            told.append("always")

        stop_once = pipeline.subscribe(once)
        pipeline.subscribe(always)
        for n in range(5):  # opened at the third poll, resolved at the fifth
            await pipeline.handle(poll(n >= 3, n))
        assert told == ["once", "always", "always"]
