"""The gateway's own health readings (selfstats) and how they map to lvgw_gateway."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from drivers.tasks import stop_task
from gateway.config.load import RESERVED_IDS
from gateway.metrics.influx import SinkStats
from gateway.metrics.schema import GATEWAY_DEVICE
from gateway.metrics.selfstats import GATEWAY_FIELDS, SelfStats, process_usage
from gateway.model import Reading
from gateway.outbox import MessageClass, Outbox, OutboxMessage
from gateway.poller import PollResult
from tests.metrics.samples import parse, site_schema

TS = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def result(device: str, reachable: bool, rtt: float | None = None, error: str = "") -> PollResult:
    readings = [Reading(device, "reachable", reachable, TS)]
    if rtt is not None:
        readings.append(Reading(device, "rtt", rtt, TS, unit="ms"))
    return PollResult(device, TS, reachable, tuple(readings), error)


def test_the_gateways_device_id_is_one_no_site_file_may_use() -> None:
    assert GATEWAY_DEVICE in RESERVED_IDS


def values(readings: list[Reading]) -> dict[tuple[str, str], object]:
    assert all(r.device == GATEWAY_DEVICE and r.ts == TS for r in readings)
    return {(r.point, r.instance): r.value for r in readings}


async def test_poll_figures_cover_the_interval_since_the_last_snapshot() -> None:
    health = SelfStats(mqtt_connected=lambda: True)
    for polled in [
        result("sw-1", True, 2.0),
        result("sw-2", True, 6.0),
        result("ups-1", False, error="SnmpTimeout"),
        result("panel-1", True, 1.0, error="modbus exception: illegal address"),
    ]:
        health.observe(polled)
    got = values(await health.readings(TS))
    assert got[("poll.count", "")] == 4.0
    assert got[("poll.errors", "")] == 2.0
    assert got[("poll.duration_avg", "")] == 3.0
    assert got[("poll.duration_max", "")] == 6.0
    assert got[("devices.unreachable", "")] == 1.0
    assert got[("mqtt.connected", "")] is True
    cpu, rss = got[("process.cpu_seconds", "")], got[("process.rss_bytes", "")]
    assert isinstance(cpu, float) and cpu > 0
    assert isinstance(rss, float) and rss > 10_000_000
    health.observe(result("ups-1", True, 4.0))
    again = values(await health.readings(TS))
    assert (again[("poll.count", "")], again[("poll.errors", "")]) == (1.0, 0.0)
    assert again[("devices.unreachable", "")] == 0.0  # ups-1 answered again


def test_process_usage_reads_a_command_name_with_spaces_and_parentheses(tmp_path: Path) -> None:
    ticks, page = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")
    rest = ["S"] + ["0"] * 10 + [str(3 * ticks), str(ticks)] + ["0"] * 30
    (tmp_path / "stat").write_text(f"4242 (lvgw (agent) x) {' '.join(rest)}\n")
    (tmp_path / "statm").write_text("9000 2500 300 1 0 400 0\n")
    assert process_usage(tmp_path) == (4.0, 2500 * page)
    assert process_usage(tmp_path / "missing") is None


async def test_outbox_and_sink_figures_per_class(tmp_path: Path) -> None:
    async with Outbox(tmp_path / "outbox.db") as outbox:
        await outbox.put(OutboxMessage("lvgw/v1/s/tickets", b"{}"))
        await outbox.put_many(
            OutboxMessage("influx:b", b"x" * 100, 0, False, MessageClass.METRIC) for _ in range(3)
        )
        sink = SinkStats(
            submitted_readings=10, queued_readings=0, queue_dropped_readings=2,
            written_lines=7, written_batches=1, spilled_batches=3, drained_batches=0,
            rejected_batches=0, lost_batches=0, backlog_batches=3, backlog_bytes=324,
            outbox_dropped_batches=0, outbox_dropped_bytes=0, influx_ok=False,
            last_error="down", last_error_at=None,
        )  # fmt: skip
        health = SelfStats(outbox=outbox, sink=lambda: sink)
        readings = await health.readings(TS)
    got = values(readings)
    assert got[("outbox.backlog_messages", "metric")] == 3.0
    assert got[("outbox.backlog_bytes", "metric")] == 3 * (100 + len("influx:b"))
    assert got[("outbox.backlog_messages", "ticket")] == 1.0
    assert got[("outbox.dropped_messages", "control")] == 0.0
    assert isinstance(got[("outbox.disk_bytes", "")], float)
    assert got[("influx.ok", "")] is False
    assert got[("influx.written_lines", "")] == 7.0
    assert got[("influx.queue_dropped_readings", "")] == 2.0
    # Every reading is a documented field, of its documented type and shape.
    fields = {f.name: f for f in GATEWAY_FIELDS}
    for reading in readings:
        field = fields[reading.point]
        assert isinstance(reading.value, bool) == field.flag, reading.point
        assert bool(reading.instance) == field.per_class, reading.point
    lines = site_schema("s1").lines(readings)
    rows = {parse(line)[1].get("instance", ""): parse(line) for line in lines}
    assert set(rows) == {"", "ticket", "control", "metric"}
    measurement, tags, line_fields, _ = rows["metric"]
    assert (measurement, tags) == (
        "lvgw_gateway", {"site": "s1", "table": "outbox", "instance": "metric"},
    )  # fmt: skip
    assert line_fields["outbox.backlog_messages"] == "3.0"
    assert rows[""][2]["influx.ok"] == "0i"


async def test_run_submits_a_snapshot_every_interval() -> None:
    health = SelfStats()
    submitted: list[list[Reading]] = []

    async def submit(readings: Iterable[Reading]) -> None:
        submitted.append(list(readings))

    task = asyncio.create_task(health.run(submit, every=0.01))
    try:
        while len(submitted) < 3:
            await asyncio.sleep(0.01)
    finally:
        await stop_task(task, reraise=True)
    assert all(any(r.point == "poll.count" for r in snapshot) for snapshot in submitted)
