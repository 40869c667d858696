"""Embedded metric store: sustained ingest, bytes written per hour (SD-card wear), queries.

    .venv/bin/python bench/store_wear.py [--quick] [--devices N] [--points N]

The site: 100 devices polled every 30 s, 10 numeric points each (1,000 series): two
states that rarely change, two counters, an uptime and five analog values with noise.
Time is simulated through the store's injected clock, so hours pass in seconds while
the store does exactly what it does at the real rate (a flush every 60 s of clock,
maintenance every 5 minutes, hourly compaction, downsampling every 6 hours).

1. Warm-up (not measured): 50 h at one poll per 5 minutes, so every series spans
   several pages and the raw window is full, as on a box that has run for days.
2. Wear: 6 h at the real rate (a whole downsampling and pruning cycle). Bytes written
   are read from /proc/self/io: ``wchar`` (every byte SQLite handed to write(): the
   figure for the card, since at the real pace each write reaches it) and
   ``write_bytes`` (page-cache pages dirtied; lower here because compressed time
   rewrites the same log pages before the kernel writes them back).
3. The same hour written the naive way for comparison: straight into a
   ``(series_id, ts)`` table with one transaction per flush.
4. Queries at the end: latest, 24 h raw, 7 days of 5-minute buckets, 30 days hourly.
5. The asyncio face: one hour through `MetricStore` with one `add` per device poll,
   and what each `add` costs the event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.metrics.store import MetricStore
from gateway.metrics.store.core import SeriesStore
from gateway.metrics.store.db import CACHE_KIB, log_limit
from gateway.metrics.store.types import MIB, StoreConfig
from gateway.model import Reading

START = 1_767_225_600  # 2026-01-01T00:00:00Z
POLL = 30
POINTS = ("reachable", "status", "in_errors", "out_errors", "uptime",
          "rtt", "temp", "volts", "load", "fan")  # fmt: skip


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def value(point: int, device: int, ts: int) -> float | int | bool:
    """A plausible value: states hold, counters climb, analog values wander."""
    noise = (ts * 2_654_435_761 + device * 40_503 + point * 977) % 1000
    match point:
        case 0:
            return True
        case 1:
            return 1 if (ts // 86_400 + device) % 50 else 2
        case 2:
            return (ts - START) // 3_600 + device
        case 3:
            return device % 3
        case 4:
            return ts - START + 1_000 * device
        case 5:
            return 0.3 + noise / 400
        case 6:
            return round(24 + device % 7 + noise / 1000, 1)
        case 7:
            return 13.2 + (noise - 500) / 10_000
        case 8:
            return noise % 101
        case _:
            return 2_400 + noise


def poll_round(devices: int, points: int, ts: int) -> list[list[Reading]]:
    when = datetime.fromtimestamp(ts, UTC)
    return [
        [Reading(f"dev-{d:03d}", POINTS[p], value(p, d, ts), when) for p in range(points)]
        for d in range(devices)
    ]


def io_counters() -> dict[str, int]:
    with open("/proc/self/io") as f:
        return {k: int(v) for k, v in (line.split(":") for line in f)}


def machine() -> str:
    model = platform.processor() or "?"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next(
            line.split(":", 1)[1].strip() for line in out.splitlines() if "Model name" in line
        )
    except (OSError, subprocess.CalledProcessError, StopIteration):
        pass
    versions = f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    return f"{model}, {os.cpu_count()} cores, {versions}"


def run_rounds(
    store: SeriesStore,
    clock: Clock,
    devices: int,
    points: int,
    start: int,
    hours: float,
    every: int,
) -> tuple[int, float]:
    """Poll rounds from ``start`` for ``hours``: samples added, and the longest ``add``
    (a flush or maintenance step runs inside it: what a query may wait behind)."""
    samples, longest = 0, 0.0
    for ts in range(start, start + int(hours * 3600), every):
        clock.now = ts
        for batch in poll_round(devices, points, ts):
            t0 = time.perf_counter()
            store.add(batch)
            longest = max(longest, time.perf_counter() - t0)
            samples += len(batch)
    return samples, longest


def table_sizes(path: Path) -> dict[str, tuple[int, int]]:
    """Bytes in pages and rows of each table."""
    conn = sqlite3.connect(path)
    try:
        pages = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
        return {
            t: (int(pages.get(t, 0)), conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
            for t in ("recent", "raw", "agg_5m", "agg_1h")
        }
    finally:
        conn.close()


def naive_hour(db: Path, devices: int, points: int, start: int) -> float:
    """MB written by one hour straight into a (series_id, ts) table, a commit per flush."""
    ref = db.with_name("naive.db")
    conn = sqlite3.connect(ref, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    checkpoint_pages = log_limit(StoreConfig().budget_bytes) // 4096
    for pragma in (
        "synchronous = NORMAL",
        "secure_delete = OFF",
        f"cache_size = -{CACHE_KIB}",
        f"wal_autocheckpoint = {checkpoint_pages}",
    ):  # the store's own settings
        conn.execute(f"PRAGMA {pragma}")
    conn.execute(
        "CREATE TABLE raw (series_id INTEGER, ts INTEGER, value REAL, PRIMARY KEY (series_id, ts))"
        " WITHOUT ROWID"
    )
    conn.execute(f"ATTACH '{db}' AS store")
    conn.execute("INSERT INTO raw SELECT series_id, ts, value FROM store.raw ORDER BY 1, 2")
    conn.execute("DETACH store")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    series = devices * points
    before = io_counters()["wchar"]
    for flush_start in range(start, start + 3600, 60):
        times = (flush_start, flush_start + POLL)
        rows = [(s, ts, float(ts % 97)) for ts in times for s in range(1, series + 1)]
        conn.execute("BEGIN")
        conn.executemany("INSERT OR REPLACE INTO raw VALUES (?, ?, ?)", rows)
        conn.execute("COMMIT")
    written = io_counters()["wchar"] - before
    conn.close()
    return written / 1e6


def query_latency(store: SeriesStore, now: int) -> dict[str, float]:
    end = datetime.fromtimestamp(now, UTC)
    hour, day = timedelta(hours=1), timedelta(days=1)
    week, month = 7 * day, 30 * day
    cases: dict[str, Callable[[str], object]] = {
        "latest": lambda dev: store.latest(dev, "temp"),
        "24 h raw": lambda dev: store.series(dev, "temp", None, end - day, end),
        "7 d 5-min": lambda dev: store.series(dev, "temp", None, end - week, end),
        "30 d hourly": lambda dev: store.series(dev, "temp", None, end - month, end, hour),
    }
    out = {}
    for name, call in cases.items():
        times = []
        for d in range(20):
            t0 = time.perf_counter()
            call(f"dev-{d:03d}")
            times.append(time.perf_counter() - t0)
        out[name] = statistics.median(times) * 1000
    return out


async def through_facade(
    path: Path, clock: Clock, devices: int, points: int, start: int
) -> tuple[float, float, float]:
    """Samples/s for an hour through MetricStore, and the loop's cost per `add` (p50, p99 µs)."""
    costs: list[float] = []
    samples = 0
    async with MetricStore(path, clock=clock) as store:
        t0 = time.perf_counter()
        for ts in range(start, start + 3600, POLL):
            clock.now = ts
            for batch in poll_round(devices, points, ts):
                c0 = time.perf_counter()
                await store.add(batch)
                costs.append(time.perf_counter() - c0)
                samples += len(batch)
            await store.stats()  # the worker has caught up: the next round is not queued ahead
        await store.flush()
        elapsed = time.perf_counter() - t0
    costs.sort()
    return samples / elapsed, costs[len(costs) // 2] * 1e6, costs[int(len(costs) * 0.99)] * 1e6


def wear(store: SeriesStore, clock: Clock, devices: int, points: int, hours: int) -> None:
    """Run ``hours`` at the real rate after the warm-up; print rate and bytes written."""
    before, t0, c0 = io_counters(), time.perf_counter(), time.process_time()
    samples, longest = run_rounds(store, clock, devices, points, START + 50 * 3600, hours, POLL)
    store.flush()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    after = io_counters()
    wchar = (after["wchar"] - before["wchar"]) / hours
    dirtied = (after["write_bytes"] - before["write_bytes"]) / hours
    need = devices * points / POLL
    print(f"wear: {hours} h at the real rate, {samples:,} samples")
    print(f"  sustained ingest: {samples / elapsed:,.0f} samples/s", end=" ")
    print(f"({cpu / elapsed:.0%} of a core busy; the site needs {need:,.0f}/s)")
    print(f"  longest add (with the flush or maintenance step it ran): {longest:.2f} s")
    print(f"  written per hour: {wchar / 1e6:.1f} MB handed to write()", end=", ")
    print(f"{dirtied / 1e6:.1f} MB of pages dirtied")
    print(f"  per sample: {wchar / (samples / hours):.0f} bytes written")
    stats = store.stats()
    print(f"  file {stats.file_bytes / MIB:.1f} MiB, log {stats.wal_bytes / MIB:.1f} MiB")


def sizes(path: Path, series: int) -> None:
    """Bytes per row as stored, and what full retention takes at this many series."""
    per_row = {t: (b / n if n else 0.0) for t, (b, n) in table_sizes(path).items()}
    full = series * (
        per_row["raw"] * (54 * 3600 / POLL)
        + per_row["agg_5m"] * 91 * 288
        + per_row["agg_1h"] * 401 * 24
    )
    print("bytes per row: " + ", ".join(f"{t} {v:.1f}" for t, v in per_row.items()))
    print(f"full retention (raw 54 h, 5-min 91 d, hourly 401 d): {full / MIB:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 h of wear instead of 6")
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--points", type=int, default=10, choices=range(1, len(POINTS) + 1))
    args = parser.parse_args()
    devices, points = args.devices, args.points
    print(f"machine: {machine()}")
    print(f"site: {devices} devices x {points} points, one poll per {POLL} s")
    bench_dir = os.environ.get("BENCH_DIR")  # a directory on the card to measure
    with tempfile.TemporaryDirectory(prefix="lvgw-store-bench-", dir=bench_dir) as tmp:
        path = Path(tmp) / "metrics.db"
        clock = Clock(START)
        store = SeriesStore.open(path, clock=clock)
        t0 = time.perf_counter()
        warm, _ = run_rounds(store, clock, devices, points, START, 50, 300)
        print(f"warm-up: {warm:,} samples over 50 h in {time.perf_counter() - t0:.1f} s")
        wear(store, clock, devices, points, 1 if args.quick else 6)
        now = int(clock.now)
        for name, ms in query_latency(store, now).items():
            print(f"  query {name}: {ms:.2f} ms (median of 20)")
        store.close()
        sizes(path, devices * points)
        naive = naive_hour(path, devices, points, now + 3600)
        print(f"naive layout, straight into (series_id, ts): {naive:.1f} MB written per hour")
        rate, p50, p99 = asyncio.run(through_facade(path, clock, devices, points, now + 7200))
        print(f"MetricStore, one add per device poll: {rate:,.0f} samples/s", end="; ")
        print(f"each add costs the loop p50 {p50:.0f} us, p99 {p99:.0f} us")


if __name__ == "__main__":
    main()
