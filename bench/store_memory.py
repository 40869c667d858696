"""Embedded metric store: memory per series and per sample, by part, with tracemalloc.

    .venv/bin/python bench/store_memory.py [--series 20000] [--minutes 30]

``--series`` series (100 points on each of series/100 devices, table-like instances)
polled every 30 s for ``--minutes`` through `SeriesStore.add`, with its flushes and
maintenance, on an injected clock, as the agent's store thread fills it. Reported:
the Python memory the store holds afterwards (tracemalloc, what is still allocated,
by the store's module nearest the allocation: the series registry, the index of recent samples,
the write buffer...), per series, and the process's RSS, which also holds SQLite's
page cache (outside tracemalloc's view).
"""

from __future__ import annotations

import argparse
import gc
import platform
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from gateway.metrics.store.core import SeriesStore
from gateway.model import Reading

INTERVAL = 30
POINTS = 100


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=20_000)
    parser.add_argument("--minutes", type=int, default=30)
    args = parser.parse_args()
    print(
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version};"
        f" code: {Path(sys.modules['gateway'].__file__ or '').parent}"
    )
    devices = max(1, args.series // POINTS)
    # Names as a poll makes them: a profile's point names (shared), instance numbers.
    points = [(f"table{p % 5}.column{p // 5}", str(p % 24 + 1)) for p in range(POINTS)]
    now = [1_760_000_000.0]
    with tempfile.TemporaryDirectory(prefix="store-memory-") as tmp:
        rss0 = rss_mib()
        tracemalloc.start(30)  # deep enough to find the store's frame of each allocation
        store = SeriesStore.open(Path(tmp) / "metrics.db", clock=lambda: now[0])
        began = time.monotonic()
        polls = args.minutes * 60 // INTERVAL
        for poll in range(polls):
            for device in range(devices):
                now[0] += INTERVAL / devices
                when = datetime.fromtimestamp(now[0], UTC)
                value = float(poll * device % 977)
                store.add(
                    [
                        Reading(f"dev-{device}", p, value + n, when, i)
                        for n, (p, i) in enumerate(points)
                    ]
                )
        store.flush()
        filled = time.monotonic() - began
        gc.collect()
        snapshot = tracemalloc.take_snapshot()
        rss = rss_mib()
        series = store.stats().series
        by_file: dict[str, int] = {}
        for stat in snapshot.statistics("traceback"):
            # The store's frame nearest the allocation (a key tuple is made in
            # collections' code, called from series.py).
            mine = [f.filename for f in stat.traceback if "/gateway/metrics/store/" in f.filename]
            if mine:
                name = Path(mine[-1]).name
                by_file[name] = by_file.get(name, 0) + stat.size
        total = sum(by_file.values())
        print(
            f"{series} series, {polls} polls each ({series * polls} samples) in {filled:.0f} s;"
            f" recent index: {store._recent.bytes / 2**20:.1f} MiB by its own count,"
            f" complete since {store._recent.complete_since}"
        )
        for name, size in sorted(by_file.items(), key=lambda kv: -kv[1]):
            print(f"  {name:<16} {size / 2**20:7.2f} MiB  {size / series:7.1f} B per series")
        print(
            f"  {'store, in all':<16} {total / 2**20:7.2f} MiB  {total / series:7.1f} B per series"
        )
        print(f"RSS {rss:.1f} MiB ({rss - rss0:+.1f} MiB since before the store opened)")
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
