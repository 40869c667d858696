"""The sink's behaviour, against a scripted write endpoint: batching by size and time,
what it retries and what it drops, a caller never held up, a stop that keeps what was
in memory, and a token that never shows."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.config.types import Secret
from gateway.metrics.influx import MetricsSink, SinkOptions
from gateway.metrics.influx_settings import InfluxSettings
from gateway.model import Reading
from gateway.outbox import MessageClass, Outbox
from tests.metrics.fake_influx import FakeInflux, fake_influx
from tests.metrics.samples import sink_running, site_schema, ups_poll, wait_for

pytestmark = pytest.mark.integration

SITE = "sink-1"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TOKEN = "s3cr3t-token-value"


def polls(n: int) -> list[list[Reading]]:
    """n polls of one UPS's scalars, 30 s apart: one line each."""
    return [
        [r for r in ups_poll("ups-1", T0 + timedelta(seconds=30 * i), seq=i) if not r.instance]
        for i in range(n)
    ]


def sink_for(server: FakeInflux, outbox: Outbox, **options: Any) -> MetricsSink:
    settings = InfluxSettings(
        url=server.url, org="org", bucket="site", token=Secret(TOKEN), timeout=2.0
    )
    fast = SinkOptions(flush_interval=0.05, retry_base=0.05, retry_cap=0.2)
    return MetricsSink(settings, outbox, site_schema(SITE), dataclasses.replace(fast, **options))


async def test_batches_are_cut_by_size_then_by_time(outbox: Outbox) -> None:
    async with fake_influx() as server:
        # The timer is long enough that the full batches can only have gone out before
        # it, however loaded the machine.
        sink = sink_for(server, outbox, batch_lines=4, flush_interval=2.0)
        async with sink_running(sink):
            loop = asyncio.get_running_loop()
            submitted = loop.time()
            for poll in polls(10):
                await sink.submit(poll)
            await wait_for(lambda: len(server.requests) == 2, "two full batches")
            assert loop.time() - submitted < 2.0  # full batches do not wait for the timer
            await wait_for(lambda: len(server.requests) == 3, "the rest, on time")
            assert loop.time() - submitted >= 2.0
            # Counted once InfluxDB's answer is read, a moment after the server got the
            # request: stopping the sink before then would cancel the last write.
            await wait_for(lambda: sink.stats().written_lines == 10, "the last write answered")
        assert [len(r.lines) for r in server.requests] == [4, 4, 2]
        first = server.requests[0]
        assert first.path == "/api/v2/write?org=org&bucket=site&precision=ms"
        assert first.headers["content-encoding"] == "gzip"
        assert first.headers["authorization"] == f"Token {TOKEN}"
        assert all(line.startswith("lvgw_device,device=ups-1,kind=ups,") for line in first.lines)
        assert sink.stats().written_lines == 10


async def test_a_malformed_batch_is_dropped_and_counted_not_retried(
    outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    async with fake_influx(script=[400]) as server:
        sink = sink_for(server, outbox)
        async with sink_running(sink):
            await sink.submit(polls(1)[0])
            await wait_for(lambda: sink.stats().rejected_batches == 1, "the refusal")
            await sink.submit(polls(2)[1])
            await wait_for(lambda: sink.stats().written_batches == 1, "the next batch")
        assert len(server.requests) == 2
        stats = sink.stats()
        assert (stats.spilled_batches, stats.backlog_batches, stats.influx_ok) == (0, 0, True)
        assert "400" in stats.last_error
        assert "influxdb rejected 1 lines" in caplog.text


@pytest.mark.parametrize(
    ("status", "level"), [(503, logging.WARNING), (401, logging.ERROR)], ids=["503", "401"]
)
async def test_a_refusal_keeps_the_batch_and_retries_it_until_taken(
    outbox: Outbox, caplog: pytest.LogCaptureFixture, status: int, level: int
) -> None:
    async with fake_influx(script=[status, status, status]) as server:
        sink = sink_for(server, outbox)
        async with sink_running(sink):
            await sink.submit(polls(1)[0])
            await wait_for(lambda: sink.stats().drained_batches == 1, "the retried batch")
        # one direct attempt, then the drainer: two more refusals, then taken
        assert len(server.requests) == 4
        assert len({r.body for r in server.requests}) == 1
        stats = sink.stats()
        assert (stats.spilled_batches, stats.backlog_batches, stats.written_batches) == (1, 0, 1)
        assert stats.influx_ok is True
        (warning,) = [
            r for r in caplog.records if r.name == "lvgw.metrics.influx" and r.levelno >= 30
        ]
        assert warning.levelno == level
        assert str(status) in warning.getMessage()


async def test_submit_never_waits_and_the_queue_drops_its_oldest(outbox: Outbox) -> None:
    async with fake_influx() as server:
        server.hold = True  # InfluxDB takes the first write and does not answer
        sink = sink_for(server, outbox, batch_lines=1, queue_readings=10)
        async with sink_running(sink):
            batches = polls(20)
            await sink.submit(batches[0])
            await wait_for(lambda: len(server.requests) == 1, "the stuck write")
            # The write stays stuck until released below: a submit that waited for it,
            # or for room in the queue, would never return.
            async with asyncio.timeout(10):
                for poll in batches[1:]:
                    await sink.submit(poll)  # five readings a poll
            stats = sink.stats()
            assert stats.queued_readings == 8  # the two newest polls, four readings each
            assert stats.queue_dropped_readings == 17 * 4
            server.release.set()
            await wait_for(lambda: sink.stats().written_batches == 3, "the kept polls")
        times = [r.lines[0].rsplit(" ", 1)[1] for r in server.requests]
        expected = [T0 + timedelta(seconds=30 * i) for i in (0, 18, 19)]
        assert times == [str(int(ts.timestamp() * 1000)) for ts in expected]


async def test_a_stop_keeps_what_was_in_memory_for_the_next_start(outbox: Outbox) -> None:
    async with fake_influx(script=[503]) as server:
        sink = sink_for(server, outbox, flush_interval=60.0)
        async with sink_running(sink):
            for poll in polls(3):
                await sink.submit(poll)
            await asyncio.sleep(0.05)  # the batcher takes them in; the timer is far away
        assert server.requests == []
        (kept,) = await outbox.pending(10, classes=(MessageClass.METRIC,))
        assert kept.topic == "influx:site"
        lines = gzip.decompress(kept.payload)  # batches wait compressed
        assert len(lines.split(b"\n")) == 3
        again = sink_for(server, outbox)
        async with sink_running(again):
            await wait_for(lambda: again.stats().drained_batches == 1, "sent after the restart")
        assert server.requests[-1].body == lines


async def test_the_token_shows_nowhere(outbox: Outbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with fake_influx(script=[401, 503]) as server:
        sink = sink_for(server, outbox)
        async with sink_running(sink):
            for poll in polls(3):
                await sink.submit(poll)
            await wait_for(lambda: sink.stats().written_batches >= 1, "a write at last")
        assert server.requests[0].headers["authorization"] == f"Token {TOKEN}"
    seen = [caplog.text, repr(sink.settings), str(sink.settings), repr(sink.stats())]
    assert all(TOKEN not in text for text in seen)
    assert "<secret>" in repr(sink.settings)


async def test_a_stop_while_a_write_hangs_keeps_every_line(outbox: Outbox) -> None:
    big_poll = [reading for poll in polls(6) for reading in poll]  # six lines at once
    async with fake_influx() as server:
        server.hold = True  # the first write is sent and never answered
        sink = sink_for(server, outbox, batch_lines=2)
        async with sink_running(sink):
            await sink.submit(big_poll)
            await wait_for(lambda: len(server.requests) == 1, "the hanging write")
        assert len(server.requests[0].lines) == 2  # one submission, cut to the batch size
        kept = await outbox.pending(10, classes=(MessageClass.METRIC,))
    lines = [line for m in kept for line in gzip.decompress(m.payload).decode().split("\n")]
    # the batch in flight (at least once) and the four lines behind it
    assert sorted(lines) == sorted(site_schema(SITE).lines(big_poll))
    assert [len(gzip.decompress(m.payload).split(b"\n")) for m in kept] == [2, 2, 2]
