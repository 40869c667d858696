"""The InfluxDB sink: points/s sustained into a real server, and what it costs.

    .venv/bin/python bench/influx_sink.py [--quick]

The server is VictoriaMetrics (Debian's `victoria-metrics`, InfluxDB v2 write API) on
127.0.0.1, on the same machine: its CPU competes with ours and is not counted. The
site is 100 devices on the shipped profiles (SITE below); every point of every
profile gets a plausible value. A "value" is one field of one line (one sample of one
series in the server); a "line" is one device row at one time.

1. schema: readings -> line protocol alone, CPU per 1,000 values.
2. clients: one batch of lines through each way influxdb-client offers (the
   synchronous write API in a thread, as the sink does; the batching write API; the
   asyncio client when aiohttp is installed), CPU per 1,000 values.
3. sustained: poll rounds of the whole site submitted as fast as the sink takes them
   (gzip on and off): values/s until InfluxDB has all of them, this process's CPU
   per 1,000 values (every thread: the loop, the writer, the outbox), and how late a
   1 ms timer fires on the loop meanwhile (what polling would feel).
   paced: the site's polls at ten times their real rate (1,000 devices on a 30 s
   interval), spread as the pollers spread them: CPU share and timer lag.
4. outage: InfluxDB away while ROUNDS_OUTAGE rounds arrive (the batches wait in the
   outbox, compressed), then back: bytes stored per hour of outage and drain rate.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.config.profile import Point, Profile  # noqa: E402
from gateway.metrics.fielddocs import shipped_profiles  # noqa: E402
from gateway.metrics.influx import MetricsSink, SinkOptions  # noqa: E402
from gateway.metrics.influx_settings import InfluxSettings  # noqa: E402
from gateway.metrics.schema import DeviceMeta, MetricSchema, ProfileFields  # noqa: E402
from gateway.model import Reading  # noqa: E402
from gateway.outbox import MessageClass, Outbox  # noqa: E402
from tests.metrics.victoria import VictoriaMetrics  # noqa: E402

# 100 devices: (profile, how many, rows per table)
SITE: list[tuple[str, int, dict[str, int]]] = [
    ("switch-generic", 40, {"if": 24, "sensor": 5, "poe": 24}),
    ("nvr-hikvision", 20, {"disk": 4, "camera": 16}),
    ("pbx-asterisk", 10, {"trunk": 4}),
    ("alarm-panel-modbus", 15, {"zone": 16}),
    ("ups-rfc1628", 15, {"input": 1, "output": 1}),
]
POLL_INTERVAL_S = 30.0
ROUNDS_SUSTAINED = 30  # poll rounds of the whole site, flat out
ROUNDS_OUTAGE = 60  # half an hour of outage at a 30 s interval


def point_readings(
    device: str, name: str, point: Point, ts: datetime, instance: str, rng: random.Random
) -> Iterator[Reading]:
    if point.type in ("text", "oid"):
        yield Reading(device, name, f"{name} {instance or device}", ts, instance)
    elif point.states:
        yield Reading(device, name, rng.choice(list(point.states.values())), ts, instance)
    elif point.bits:
        word = rng.getrandbits(16)
        yield Reading(device, name, word, ts, instance)
        for bit, bit_name in point.bits.items():
            yield Reading(device, f"{name}.{bit_name}", bool(word >> bit & 1), ts, instance)
    elif point.type == "bool":
        yield Reading(device, name, rng.random() < 0.1, ts, instance)
    elif point.rate:
        yield Reading(device, name, rng.getrandbits(40), ts, instance, point.unit)
        yield Reading(device, f"{name}.rate", round(rng.uniform(0, 1e6), 3), ts, instance)
    elif point.scale is not None or point.type in ("float32", "timeticks"):
        yield Reading(device, name, round(rng.uniform(0, 500), 2), ts, instance, point.unit)
    else:
        yield Reading(device, name, rng.randrange(0, 100_000), ts, instance, point.unit)


def poll(
    device: str, profile: Profile, rows: dict[str, int], ts: datetime, rng: random.Random
) -> list[Reading]:
    readings = [
        Reading(device, "reachable", True, ts),
        Reading(device, "rtt", round(rng.uniform(0.5, 20), 3), ts, unit="ms"),
    ]
    for name, point in profile.points.items():
        readings += point_readings(device, name, point, ts, "", rng)
    for table, spec in profile.tables.items():
        for n in range(1, rows.get(table, 1) + 1):
            for column, point in spec.columns.items():
                readings += point_readings(device, f"{table}.{column}", point, ts, str(n), rng)
    return readings


class Site:
    def __init__(self, name: str) -> None:
        profiles = shipped_profiles()
        self.devices: list[tuple[str, Profile, dict[str, int]]] = []
        metas = {}
        for profile_id, count, rows in SITE:
            profile = profiles[profile_id]
            fields = ProfileFields.from_profile(profile)
            for n in range(1, count + 1):
                device = f"{profile.kinds[0].value.replace('_', '-')}-{n:02d}"
                self.devices.append((device, profile, rows))
                metas[device] = DeviceMeta(profile.kinds[0].value, fields)
        self.schema = MetricSchema(name, metas)
        self.rng = random.Random(7)

    def round(self, ts: datetime) -> list[list[Reading]]:
        """One poll of every device, at ``ts`` (plus a millisecond per device)."""
        return [
            poll(device, profile, rows, ts + timedelta(milliseconds=i), self.rng)
            for i, (device, profile, rows) in enumerate(self.devices)
        ]

    def rounds(self, count: int, start: datetime) -> list[list[list[Reading]]]:
        return [self.round(start + timedelta(seconds=POLL_INTERVAL_S * r)) for r in range(count)]

    def size(self, rounds: list[list[list[Reading]]]) -> tuple[int, int]:
        """Lines and values these polls make."""
        lines = [line for polls in rounds for p in polls for line in self.schema.lines(p)]
        values = sum(line.split(" ")[-2].count(",") + 1 for line in lines)
        return len(lines), values


async def until(
    predicate: Callable[[], bool], task: asyncio.Task[None], every: float = 0.001
) -> None:
    """Watch the sink's counters from outside, as a status page would; a sink task
    that ended (a bug) raises here instead of leaving the wait hanging."""
    while True:
        if predicate():
            return
        if task.done():
            task.result()
            raise RuntimeError("the sink stopped")
        await asyncio.sleep(every)


def recent(minutes_back: float) -> datetime:
    # VictoriaMetrics keeps one day (-retentionPeriod=1d): stay inside it.
    return datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_back)


def per_thousand(cpu_s: float, values: int) -> float:
    return cpu_s / values * 1e6  # ms per 1,000


def bench_schema(site: Site) -> None:
    rounds = site.rounds(3, recent(600))
    readings = sum(len(p) for polls in rounds for p in polls)
    lines, values = site.size(rounds)
    started = time.process_time()
    for polls in rounds:
        for p in polls:
            site.schema.lines(p)
    cpu = time.process_time() - started
    print(
        f"schema: {readings / len(rounds):,.0f} readings per round -> "
        f"{lines / len(rounds):,.0f} lines, {values / len(rounds):,.0f} values; "
        f"{per_thousand(cpu, values):.2f} ms CPU per 1,000 values "
        f"({per_thousand(cpu, readings):.2f} per 1,000 readings)"
    )


def bench_clients(site: Site, server: VictoriaMetrics) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from influxdb_client.client.influxdb_client import InfluxDBClient
    from influxdb_client.client.write_api import SYNCHRONOUS, WriteOptions

    rounds = site.rounds(4, recent(500))
    lines = [line for polls in rounds for p in polls for line in site.schema.lines(p)]
    batches = [lines[i : i + 5000] for i in range(0, len(lines), 5000)]
    values = sum(line.split(" ")[-2].count(",") + 1 for line in lines)
    results: dict[str, float] = {}

    client = InfluxDBClient(url=server.url, token="", org="")
    sync_api = client.write_api(write_options=SYNCHRONOUS)
    with ThreadPoolExecutor(1) as thread:
        started = time.process_time()
        for batch in batches:
            body = "\n".join(batch).encode()
            thread.submit(sync_api.write, "b", "", body, "ms").result()
        results["synchronous write API in a thread (the sink's)"] = time.process_time() - started
    client.close()

    client = InfluxDBClient(url=server.url, token="", org="")
    batching = client.write_api(write_options=WriteOptions(batch_size=5000, flush_interval=500))
    started = time.process_time()
    for batch in batches:
        batching.write("b", "", batch, "ms")
    batching.close()
    results["batching write API (reactivex)"] = time.process_time() - started
    client.close()

    try:
        import aiohttp  # noqa: F401
    except ImportError:
        print("clients: the asyncio client needs aiohttp, not installed: not measured")
    else:
        from influxdb_client.client.influxdb_client_async import InfluxDBClientAsync

        async def run_async() -> float:
            async with InfluxDBClientAsync(url=server.url, token="", org="") as aclient:
                api = aclient.write_api()
                started = time.process_time()
                for batch in batches:
                    await api.write("b", "", "\n".join(batch).encode(), "ms")
                return time.process_time() - started

        results["asyncio client (aiohttp)"] = asyncio.run(run_async())
    for name, cpu in results.items():
        print(f"clients: {name}: {per_thousand(cpu, values):.2f} ms CPU per 1,000 values")


class LoopLag:
    """How late a 1 ms timer fires: how long other work kept the event loop busy."""

    def __init__(self) -> None:
        self.lags: list[float] = []

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + 0.001
            await asyncio.sleep(0.001)
            self.lags.append(max(0.0, loop.time() - due))

    def p99_ms(self) -> float:
        return statistics.quantiles(self.lags, n=100)[98] * 1000 if len(self.lags) > 10 else 0.0


async def bench_sustained(site: Site, server: VictoriaMetrics, rounds_n: int, gzip: bool) -> None:
    rounds = site.rounds(rounds_n, recent(400 if gzip else 300))
    lines, values = site.size(rounds)
    settings = InfluxSettings(url=server.url, bucket="bench", gzip=gzip)
    with tempfile.TemporaryDirectory() as tmp:
        async with Outbox(Path(tmp) / "outbox.db") as outbox:
            sink = MetricsSink(settings, outbox, site.schema, SinkOptions(flush_interval=0.5))
            lag = LoopLag()
            lag_task = asyncio.create_task(lag.run())
            task = asyncio.create_task(sink.run())
            await asyncio.sleep(0.2)
            lag.lags.clear()
            wall, cpu = time.perf_counter(), time.process_time()
            for polls in rounds:
                for p in polls:
                    await until(lambda: sink.stats().queued_readings <= 50_000, task)
                    await sink.submit(p)
            await until(lambda: sink.stats().written_lines >= lines, task)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            task.cancel()
            lag_task.cancel()
            await asyncio.gather(task, lag_task, return_exceptions=True)
            stats = sink.stats()
    assert stats.spilled_batches == 0, stats
    assert stats.queue_dropped_readings == 0, stats
    site_values_per_s = values / rounds_n / POLL_INTERVAL_S
    print(
        f"sustained (gzip {'on' if gzip else 'off'}): {rounds_n} rounds, {lines:,} lines, "
        f"{values:,} values in {wall:.1f} s: {values / wall:,.0f} values/s "
        f"({lines / wall:,.0f} lines/s, {stats.written_batches} requests); "
        f"{per_thousand(cpu, values):.2f} ms CPU per 1,000 values; "
        f"1 ms timer late by {lag.p99_ms():.1f} ms at p99; this site at a {POLL_INTERVAL_S:.0f} s "
        f"interval ({site_values_per_s:,.0f} values/s) would take "
        f"{site_values_per_s * per_thousand(cpu, values) / 10_000:.2f} % of a core"
    )


async def paced_run(
    polls: list[list[Reading]], seconds: float, sink: MetricsSink | None, lines: int
) -> tuple[float, float, float]:
    """Submit ``polls`` spread evenly over ``seconds`` (to nothing when ``sink`` is
    None: the harness alone); CPU seconds, wall seconds, timer lag p99 (ms)."""
    gap = seconds / len(polls)
    lag = LoopLag()
    lag_task = asyncio.create_task(lag.run())
    task = asyncio.create_task(sink.run()) if sink is not None else None
    await asyncio.sleep(0.2)
    lag.lags.clear()
    loop = asyncio.get_running_loop()
    start, cpu = loop.time(), time.process_time()
    for n, p in enumerate(polls):
        await asyncio.sleep(max(0.0, start + n * gap - loop.time()))
        if sink is not None:
            await sink.submit(p)
    if sink is not None and task is not None:
        await until(lambda: sink.stats().written_lines >= lines, task, 0.01)
    cpu, wall = time.process_time() - cpu, loop.time() - start
    lag_task.cancel()
    if task is not None:
        task.cancel()
    await asyncio.gather(lag_task, *([task] if task else []), return_exceptions=True)
    return cpu, wall, lag.p99_ms()


async def bench_paced(site: Site, server: VictoriaMetrics, seconds: float, speedup: int) -> None:
    """The site's polls at ``speedup`` times their real rate (1,000 devices on a 30 s
    interval at 10x), spread evenly as the pollers spread them: the sink's CPU (this
    process's, less that of the same run submitting to nothing) and the loop's lag."""
    rounds_n = max(1, int(seconds * speedup / POLL_INTERVAL_S))
    rounds = site.rounds(rounds_n, recent(100))
    lines, values = site.size(rounds)
    polls = [p for polls in rounds for p in polls]
    base_cpu, base_wall, base_lag = await paced_run(polls, seconds, None, lines)
    settings = InfluxSettings(url=server.url, bucket="bench")
    with tempfile.TemporaryDirectory() as tmp:
        async with Outbox(Path(tmp) / "outbox.db") as outbox:
            sink = MetricsSink(settings, outbox, site.schema)  # default options
            cpu, wall, lag = await paced_run(polls, seconds, sink, lines)
    sink_cpu = cpu - base_cpu * wall / base_wall
    devices = len(site.devices) * speedup
    print(
        f"paced: {devices:,} devices on a {POLL_INTERVAL_S:.0f} s interval "
        f"({values / seconds:,.0f} values/s) for {seconds:.0f} s: the sink "
        f"{sink_cpu / wall * 100:.1f} % of a core, {per_thousand(sink_cpu, values):.2f} ms CPU "
        f"per 1,000 values; 1 ms timer late by {lag:.1f} ms at p99 "
        f"({base_lag:.1f} ms without the sink)"
    )


async def bench_outage(site: Site, workdir: Path, rounds_n: int) -> None:
    server = VictoriaMetrics(workdir / "outage")  # not started: InfluxDB is away
    rounds = site.rounds(rounds_n, recent(200))
    lines, values = site.size(rounds)
    plain = sum(len(line) + 1 for polls in rounds for p in polls for line in site.schema.lines(p))
    settings = InfluxSettings(url=server.url, bucket="bench")
    options = SinkOptions(flush_interval=0.5, retry_base=0.2, retry_cap=0.5)
    async with Outbox(workdir / "outage-outbox.db") as outbox:
        sink = MetricsSink(settings, outbox, site.schema, options)
        task = asyncio.create_task(sink.run())
        cpu = time.process_time()
        for polls in rounds:
            for p in polls:
                await until(lambda: sink.stats().queued_readings <= 50_000, task)
                await sink.submit(p)
        await until(
            lambda: not sink.stats().queued_readings and sink.stats().backlog_batches > 0, task
        )
        await asyncio.sleep(1.0)  # the last, time-cut batch
        cpu = time.process_time() - cpu
        backlog = (await outbox.stats()).backlog[MessageClass.METRIC]
        server.start()
        wall = time.perf_counter()
        await until(lambda: sink.stats().written_lines >= lines, task, 0.005)
        wall = time.perf_counter() - wall
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        server.stop()
    assert sink.stats().queue_dropped_readings == 0
    assert sink.stats().outbox_dropped_batches == 0
    hours = rounds_n * POLL_INTERVAL_S / 3600
    print(
        f"outage: {rounds_n} rounds ({hours:.1f} h of this site): {lines:,} lines, "
        f"{plain / 1e6:.1f} MB of line protocol stored as {backlog.messages} batches, "
        f"{backlog.bytes / 1e6:.2f} MB ({plain / backlog.bytes:.1f}x smaller; "
        f"{backlog.bytes / hours / 1e6:.1f} MB per hour of outage, so the 128 MiB budget "
        f"holds {128 * 1.048576 / (backlog.bytes / hours / 1e6):.0f} h); storing took "
        f"{per_thousand(cpu, values):.2f} ms CPU per 1,000 values; drained in {wall:.1f} s "
        f"({values / wall:,.0f} values/s)"
    )


async def main(quick: bool) -> None:
    scale = 10 if quick else 1
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")  # fmt: skip
    site = Site("bench")
    bench_schema(site)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        server = VictoriaMetrics(workdir / "vm")
        server.start()
        try:
            bench_clients(site, server)
            for gzip in (True, False):
                await bench_sustained(site, server, max(2, ROUNDS_SUSTAINED // scale), gzip)
            await bench_paced(site, server, 30.0 / scale * 2, speedup=10)
        finally:
            server.stop()
        await bench_outage(site, workdir, max(2, ROUNDS_OUTAGE // scale))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the work, for a smoke run")
    asyncio.run(main(parser.parse_args().quick))
