"""Beyond the outbox's metric budget the oldest batches are dropped, counted by the
outbox and reported by the sink; ticket events in the same outbox are untouched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from gateway.metrics.influx import MetricsSink, SinkOptions
from gateway.metrics.influx_settings import InfluxSettings
from gateway.model import Reading
from gateway.outbox import ClassBudget, MessageClass, Outbox, OutboxMessage
from tests.metrics.samples import samples_of, sink_running, site_schema, ups_poll, wait_for
from tests.metrics.victoria import VictoriaMetrics, count

pytestmark = pytest.mark.integration

KEEP = 3
POLLS = 8


def spilled(sink: MetricsSink, batches: int) -> bool:
    return sink.stats().spilled_batches == batches


async def test_drop_oldest_beyond_the_budget_is_counted_and_tickets_stay(
    tmp_path: Path, own_victoria: VictoriaMetrics
) -> None:
    site = "budget-1"
    schema = site_schema(site)
    budgets = {MessageClass.METRIC: ClassBudget(max_messages=KEEP)}
    tickets = [
        OutboxMessage(f"lvgw/v1/{site}/tickets", f'{{"seq": {n}}}'.encode(), 1, False)
        for n in range(2)
    ]
    # InfluxDB is down from the start: its port is free, nothing listens yet.
    settings = InfluxSettings(url=own_victoria.url, bucket="site", timeout=2.0)
    options = SinkOptions(flush_interval=0.01, retry_base=0.05, retry_cap=0.2)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    polls: list[list[Reading]] = []
    async with Outbox(tmp_path / "outbox.db", budgets=budgets) as outbox:
        ticket_ids = await outbox.put_many(tickets)
        sink = MetricsSink(settings, outbox, schema, options)
        async with sink_running(sink):
            for n in range(POLLS):
                polls.append(ups_poll("ups-1", start + timedelta(seconds=30 * n), seq=n))
                await sink.submit(polls[-1])
                await wait_for(partial(spilled, sink, n + 1), f"batch {n}")
            stats = sink.stats()
            assert stats.influx_ok is False
            assert (stats.backlog_batches, stats.outbox_dropped_batches) == (KEEP, POLLS - KEEP)
            assert stats.outbox_dropped_bytes > 0
            outbox_stats = await outbox.stats()
            assert outbox_stats.dropped[MessageClass.METRIC].messages == POLLS - KEEP
            assert outbox_stats.dropped[MessageClass.TICKET].messages == 0
            assert outbox_stats.backlog[MessageClass.TICKET].messages == len(tickets)

            own_victoria.start()  # InfluxDB comes: the kept batches, and only they, arrive
            kept = [r for poll in polls[-KEEP:] for r in poll]
            want = samples_of(schema.lines(kept))
            got = await own_victoria.wait_samples(
                f'{{site="{site}"}}', lambda got: count(got) >= count(want), what="kept polls"
            )
            await wait_for(lambda: sink.stats().backlog_batches == 0, "the backlog drained")
        assert got == want
        assert sink.stats().drained_batches == KEEP
        waiting = await outbox.pending(10, classes=(MessageClass.TICKET,))
        assert [(m.id, m.topic, m.payload) for m in waiting] == [
            (i, t.topic, t.payload) for i, t in zip(ticket_ids, tickets, strict=True)
        ]
