"""The embedded store across restarts and crashes.

A crash loses the samples still buffered (at most ``flush_interval``, 60 s by default,
or ``flush_samples``) and nothing that a flush committed: the crashes here are real
processes ending without closing the store, one by ``os._exit`` and one by SIGKILL in
the middle of its work.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.metrics.store.core import SeriesStore
from gateway.metrics.store.types import Resolution, StoreConfig
from gateway.model import Reading
from tests.metrics.test_store_support import Clock, at

T0 = 1_760_000_400
HOUR = 3600
REPO = Path(__file__).resolve().parents[2]


def test_close_and_reopen_keeps_every_tier_and_the_numbering(tmp_path: Path) -> None:
    path = tmp_path / "metrics.db"
    clock = Clock(T0)
    store = SeriesStore.open(path, clock=clock)
    for ts in range(T0, T0 + 60 * HOUR, 600):
        clock.now = ts
        store.add([Reading("ups-1", "load", float(ts % 11), at(ts), unit="%")])
    store.maintain()
    before_raw = store.series("ups-1", "load", None, at(T0 + 20 * HOUR), at(clock.now))
    before_agg = store.series("ups-1", "load", None, at(T0), at(clock.now))
    assert before_agg.resolution is Resolution.FIVE_MINUTES
    store.add([Reading("sw-1", "rtt", 0.4, at(clock.now))])  # buffered: close flushes it
    store.close()

    store = SeriesStore.open(path, clock=clock)
    try:
        assert store.series("ups-1", "load", None, at(T0 + 20 * HOUR), at(clock.now)) == (
            before_raw
        )
        assert store.series("ups-1", "load", None, at(T0), at(clock.now)) == before_agg
        assert store.devices() == ["sw-1", "ups-1"]
        rtt = store.latest("sw-1", "rtt")
        assert rtt is not None and rtt.last == 0.4
        # New series after the restart get numbers of their own.
        store.add([Reading("nvr-1", "disk.used", 50.0, at(clock.now))])
        store.flush()
        conn = sqlite3.connect(path)
        ids = [r[0] for r in conn.execute("SELECT id FROM series ORDER BY id")]
        conn.close()
        assert ids == [1, 2, 3]
    finally:
        store.close()


_CRASH_AFTER_FLUSH = """
import os, sys
from datetime import UTC, datetime, timedelta
from gateway.metrics.store.core import SeriesStore
from gateway.metrics.store.types import StoreConfig
from gateway.model import Reading

config = StoreConfig(flush_interval=timedelta(hours=1), flush_samples=10_000)
store = SeriesStore.open(sys.argv[1], config=config, clock=lambda: {now})
when = datetime.fromtimestamp({now}, UTC)
store.add([Reading("ups-1", "load", 1.0, when), Reading("ups-1", "temp", 30.0, when)])
store.flush()
store.add([Reading("ups-1", "load", 2.0, when + timedelta(seconds=1))])
os._exit(3)  # a crash: the buffered sample is never flushed
"""


@pytest.mark.integration
def test_a_crash_loses_only_the_unflushed_buffer(tmp_path: Path) -> None:
    path = tmp_path / "metrics.db"
    script = _CRASH_AFTER_FLUSH.format(now=T0)
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], cwd=REPO, capture_output=True, timeout=60
    )
    assert done.returncode == 3, done.stderr.decode()
    store = SeriesStore.open(path, clock=lambda: T0 + 10)
    try:
        got = store.series("ups-1", "load", None, at(T0 - 60), at(T0 + 60))
        assert [(s.ts, s.last) for s in got] == [(at(T0), 1.0)]
        temp = store.latest("ups-1", "temp")
        assert temp is not None and temp.last == 30.0
    finally:
        store.close()


_FLUSH_FOREVER = """
import sys
from datetime import UTC, datetime
from gateway.metrics.store.core import SeriesStore
from gateway.metrics.store.types import StoreConfig
from gateway.model import Reading

now = [{now}]
config = StoreConfig(flush_samples=500)
store = SeriesStore.open(sys.argv[1], config=config, clock=lambda: now[0])
n = 0
while True:  # 20 devices every 30 s, flushes and maintenance by themselves
    now[0] += 30
    when = datetime.fromtimestamp(now[0], UTC)
    store.add([Reading(f"dev-{{d}}", "load", float(n), when) for d in range(20)])
    if not store.stats().buffered:
        print(n, now[0], flush=True)  # everything up to this sample is committed
    n += 1
"""


@pytest.mark.integration
def test_a_process_killed_mid_work_leaves_a_sound_file_with_every_flush(
    tmp_path: Path,
) -> None:
    path = tmp_path / "metrics.db"
    script = _FLUSH_FOREVER.format(now=T0)
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        # Wait for many reported flushes (hours of simulated time with compaction and
        # downsampling in them), then kill without warning.
        for _ in range(600):
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "no output"
        last_n, last_ts = (int(x) for x in line.split())
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    store = SeriesStore.open(path, clock=lambda: last_ts + 1)
    try:
        start = at(last_ts - 40 * HOUR)
        for device in ("dev-0", "dev-19"):
            got = store.series(device, "load", None, start, at(last_ts))
            values = [s.last for s in got]
            # Every sample up to the last reported flush is there, in order, once.
            assert values[-1] >= last_n
            assert values == [float(n) for n in range(int(values[0]), int(values[-1]) + 1)]
    finally:
        store.close()


def test_the_stored_configuration_is_the_callers_each_time(tmp_path: Path) -> None:
    """Settings are not stored in the file: a reopened store follows the new ones."""
    path = tmp_path / "metrics.db"
    clock = Clock(T0)
    store = SeriesStore.open(path, clock=clock)
    store.add([Reading("ups-1", "load", 1.0, at(T0))])
    store.close()
    short = StoreConfig(raw_retention=timedelta(hours=12))
    store = SeriesStore.open(path, config=short, clock=clock)
    try:
        clock.now = T0 + 13 * HOUR
        got = store.series("ups-1", "load", None, at(T0), at(clock.now))
        assert got.resolution is Resolution.FIVE_MINUTES  # beyond the 12-hour raw window
        assert [s.last for s in got] == [1.0]
    finally:
        store.close()
