"""Outbox throughput: durable ticket puts, drain rate, and a one-hour outage backlog.

    .venv/bin/python bench/outbox_throughput.py [--quick]

Everything runs at the outbox level (no broker): what the uplink could achieve if
publishing were free. The outage scenario is stated in OUTAGE below.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path

from gateway.outbox import MessageClass, Outbox, OutboxMessage

SITE = "site-001"
TICKET_PAYLOAD = 700  # a ticket event's JSON, with site, device, fault and clocks
METRIC_PAYLOAD = 1000  # one device poll in line protocol: ~10 points of ~100 bytes


@dataclass(frozen=True)
class Outage:
    """A one-hour outage of a 1,000-device site."""

    devices: int = 1000
    poll_interval_s: int = 30  # one metric message per device poll
    hours: float = 1.0
    tickets: int = 2000  # a bad hour: a storm's opens, updates and resolves

    @property
    def metric_messages(self) -> int:
        return int(self.devices * self.hours * 3600 / self.poll_interval_s)


OUTAGE = Outage()


def ticket(n: int) -> OutboxMessage:
    payload = f'{{"event_id": "e-{n:08d}", "seq": {n}}}'.encode().ljust(TICKET_PAYLOAD)
    return OutboxMessage(f"lvgw/v1/{SITE}/tickets", payload, message_class=MessageClass.TICKET)


def metric(n: int) -> OutboxMessage:
    payload = f"device_health,site={SITE},device=d{n % 1000:04d} v={n}i".encode()
    return OutboxMessage(
        "metrics/influxdb", payload.ljust(METRIC_PAYLOAD), qos=0, message_class=MessageClass.METRIC
    )


class LoopLag:
    """How late a 1 ms timer fires: how long other work kept the event loop busy."""

    def __init__(self) -> None:
        self._lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.001)
            self._lags.append(time.perf_counter() - start - 0.001)

    def __str__(self) -> str:
        lags = sorted(self._lags) or [0.0]
        p99 = lags[int(len(lags) * 0.99)]
        return f"loop lag p99 {p99 * 1e3:.1f} ms, max {lags[-1] * 1e3:.1f} ms"

    def __enter__(self) -> LoopLag:
        self._task = asyncio.get_running_loop().create_task(self._tick(), name="loop-lag")
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def timed(step: Awaitable[object]) -> float:
    start = time.perf_counter()
    await step
    return time.perf_counter() - start


async def drain(outbox: Outbox, batch: int = 500) -> int:
    """What the uplink does when publishing is free: pending, then ack, in batches."""
    drained = 0
    while items := await outbox.pending(batch):
        drained += await outbox.ack(m.id for m in items)
    return drained


async def bench_idle_loop(duration: float) -> None:
    with LoopLag() as lag:
        await asyncio.sleep(duration)
    print(f"idle loop, for reference: {lag}")


async def bench_inline_commits(path: Path, commits: int) -> None:
    """The alternative not taken: synchronous=FULL commits made on the loop itself."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)")
    times = []
    with LoopLag() as lag:
        for _ in range(commits):
            start = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO t (b) VALUES (?)", (b"x" * TICKET_PAYLOAD,))
            conn.execute("COMMIT")
            times.append(time.perf_counter() - start)
            await asyncio.sleep(0)  # let the timer run between commits
    conn.close()
    times.sort()
    print(
        f"FULL commit made on the loop (not used): p50 {times[len(times) // 2] * 1e3:.2f} ms,"
        f" p99 {times[int(len(times) * 0.99)] * 1e3:.2f} ms; {lag}"
    )


async def bench_single_puts(path: Path, count: int) -> None:
    latencies = []
    async with Outbox(path) as outbox:
        with LoopLag() as lag:
            start = time.perf_counter()
            for n in range(count):
                latencies.append(await timed(outbox.put(ticket(n))))
            elapsed = time.perf_counter() - start
    latencies.sort()
    print(
        f"ticket put, one at a time (fsync each): {count / elapsed:,.0f} events/s;"
        f" put p50 {latencies[len(latencies) // 2] * 1e3:.2f} ms,"
        f" p99 {latencies[int(len(latencies) * 0.99)] * 1e3:.2f} ms;"
        f" {lag}"
    )


async def bench_concurrent_puts(path: Path, count: int, producers: int) -> None:
    async with Outbox(path) as outbox:
        assert outbox._store is not None
        commits_before = outbox._store.commits
        per_producer = count // producers

        async def producer(first: int) -> None:
            for n in range(first, first + per_producer):
                await outbox.put(ticket(n))

        with LoopLag() as lag:
            start = time.perf_counter()
            async with asyncio.TaskGroup() as tasks:
                for p in range(producers):
                    tasks.create_task(producer(p * per_producer), name=f"producer-{p}")
            elapsed = time.perf_counter() - start
        commits = outbox._store.commits - commits_before
    total = per_producer * producers
    print(
        f"ticket put, {producers} concurrent producers (group commit): "
        f"{total / elapsed:,.0f} events/s; {total / commits:.1f} events per fsync;"
        f" {lag}"
    )


async def bench_drain(path: Path, count: int) -> None:
    async with Outbox(path) as outbox:
        for start in range(0, count, 1000):
            await outbox.put_many(ticket(n) for n in range(start, min(count, start + 1000)))
        elapsed = await timed(drain(outbox))
    print(f"drain (pending 500 + ack), tickets: {count / elapsed:,.0f} events/s")


async def bench_outage(path: Path, outage: Outage) -> None:
    rounds = outage.metric_messages // outage.devices
    async with Outbox(path) as outbox:
        start = time.perf_counter()
        for r in range(rounds):
            # One poll round: every device's metrics in one batch, and the round's tickets.
            first = r * outage.devices
            await outbox.put_many(metric(first + i) for i in range(outage.devices))
            tickets = range(r * outage.tickets // rounds, (r + 1) * outage.tickets // rounds)
            await outbox.put_many(ticket(n) for n in tickets)
        fill = time.perf_counter() - start
        stats = await outbox.stats()
        backlog = {cls: b.messages for cls, b in stats.backlog.items()}
        full_size = stats.disk_bytes

        first_ticket_gone = 0.0
        start = time.perf_counter()
        drained = 0
        while items := await outbox.pending(500):
            drained += await outbox.ack(m.id for m in items)
            if not first_ticket_gone and items[-1].message_class is not MessageClass.TICKET:
                first_ticket_gone = time.perf_counter() - start
        drain_time = time.perf_counter() - start
        after = await outbox.stats()
    print(
        f"one-hour outage, {outage.devices} devices ({outage.metric_messages:,} metric"
        f" messages of ~{METRIC_PAYLOAD} B, {backlog[MessageClass.TICKET]:,} tickets):"
        f" stored in {fill:.1f} s; file {full_size / 2**20:.0f} MiB;"
        f" dropped {stats.dropped[MessageClass.METRIC].messages}"
    )
    print(
        f"  drained {drained:,} messages in {drain_time:.1f} s"
        f" ({drained / drain_time:,.0f} msg/s); tickets all out after {first_ticket_gone:.2f} s;"
        f" file after drain {after.disk_bytes / 2**20:.1f} MiB"
    )


async def main(quick: bool) -> None:
    scale = 10 if quick else 1
    with tempfile.TemporaryDirectory(prefix="lvgw-bench-") as tmp:
        root = Path(tmp)
        await bench_idle_loop(1.0)
        await bench_inline_commits(root / "inline.db", 2000 // scale)
        await bench_single_puts(root / "single.db", 2000 // scale)
        await bench_concurrent_puts(root / "concurrent.db", 20_000 // scale, producers=64)
        await bench_drain(root / "drain.db", 50_000 // scale)
        outage = OUTAGE if not quick else Outage(devices=100)
        await bench_outage(root / "outage.db", outage)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the work, for a smoke run")
    args = parser.parse_args()
    asyncio.run(main(args.quick))
