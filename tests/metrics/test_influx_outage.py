"""InfluxDB (a real VictoriaMetrics) stopped for 30 s while polls go on: once it is back,
every point is there, none twice in a different value, and the backlog went in order."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from drivers.tasks import stop_task
from gateway.metrics.influx import MetricsSink, SinkOptions
from gateway.metrics.influx_settings import InfluxSettings
from gateway.metrics.influx_writer import InfluxWriter
from gateway.model import Reading
from gateway.outbox import MessageClass, Outbox
from tests.metrics.samples import (
    parse,
    samples_of,
    sink_running,
    site_schema,
    switch_poll,
    ups_poll,
    wait_for,
)
from tests.metrics.victoria import VictoriaMetrics, count

pytestmark = pytest.mark.integration

OUTAGE_S = 30.0
POLL_EVERY_S = 0.25


class RecordingWriter(InfluxWriter):
    """The real writer, remembering what InfluxDB accepted, in order."""

    def __init__(self, settings: InfluxSettings) -> None:
        super().__init__(settings)
        self.accepted: list[bytes] = []

    async def write(self, payload: bytes) -> None:
        await super().write(payload)
        self.accepted.append(payload)


def now() -> datetime:
    ts = datetime.now(UTC)
    return ts.replace(microsecond=ts.microsecond // 1000 * 1000)


async def produce(sink: MetricsSink, polls: list[Reading]) -> None:
    """Two devices polled every POLL_EVERY_S until cancelled, like the agent's pollers."""
    seq = 0
    while True:
        ts = now()
        readings = switch_poll("sw-1", ts, ports=4, seq=seq) + ups_poll("ups-1", ts, seq=seq)
        polls += readings
        await sink.submit(readings)
        seq += 1
        await asyncio.sleep(POLL_EVERY_S)


async def test_thirty_seconds_without_influxdb_lose_no_point(
    own_victoria: VictoriaMetrics, outbox: Outbox
) -> None:
    site = "outage-1"
    schema = site_schema(site)
    settings = InfluxSettings(url=own_victoria.url, bucket="site", timeout=2.0)
    writer = RecordingWriter(settings)
    options = SinkOptions(flush_interval=0.1, retry_base=0.2, retry_cap=1.0)
    sink = MetricsSink(settings, outbox, schema, options, writer=writer)
    polls: list[Reading] = []
    own_victoria.start()
    async with sink_running(sink):
        producer = asyncio.create_task(produce(sink, polls), name="producer")
        try:
            await wait_for(lambda: sink.stats().written_batches >= 3, "direct writes")
            assert sink.stats().spilled_batches == 0
            # `kill` (SIGTERM), not SIGKILL: VictoriaMetrics keeps the last second of
            # accepted samples in memory, and this test is about our side losing none.
            own_victoria.stop()
            loop = asyncio.get_running_loop()
            down_since = loop.time()
            await wait_for(lambda: sink.stats().influx_ok is False, "the outage noticed")
            await asyncio.sleep(OUTAGE_S - (loop.time() - down_since))
            during = sink.stats()
            assert during.spilled_batches > 50  # ~8 batches a second went to the outbox
            assert during.backlog_batches > 0
            assert "unreachable" in during.last_error
            own_victoria.start()  # same port, same data directory
            await wait_for(lambda: sink.stats().influx_ok is True, "InfluxDB back", timeout=5)
            await asyncio.sleep(1.0)  # a few polls more, after the backlog
        finally:
            await stop_task(producer, reraise=True)
        lines = schema.lines(polls)
        want = samples_of(lines)
        got = await own_victoria.wait_samples(
            f'{{site="{site}"}}',
            lambda got: count(got) >= count(want),
            timeout=15,
            what="every point",
        )
        await wait_for(
            lambda: sink.stats().written_lines >= len(lines) and sink.stats().backlog_batches == 0,
            "every write answered",
        )
    assert count(want) > 2000
    assert got == want
    stats = sink.stats()
    assert stats.drained_batches == stats.spilled_batches > 0
    assert stats.rejected_batches == stats.lost_batches == stats.outbox_dropped_batches == 0
    assert (await outbox.stats()).backlog[MessageClass.METRIC].messages == 0
    # In order: every write's earliest time is no earlier than the one before.
    firsts = [min(parse(line)[3] for line in p.decode().split("\n")) for p in writer.accepted]
    assert firsts == sorted(firsts)
