"""One run of the proactive forecast over a large site's metric store: time and CPU.

The site is the mix of ``simulators/fleets/large.yaml`` (switches, NVRs, PBXs, UPSes,
alarm panels), ``--devices`` of them (500 per copy of the fleet, as
bench/agent_scale.py runs it). The store is filled as the agent fills it: every
series of every device (each profile point, each table column per instance, rates
too; about 147 per device) polled every 30 s for ``--minutes``, through
`SeriesStore.add` with its flushes, on an injected clock. Then `findings()`, the
forecast job's reading and fitting of every watched series (disks, batteries, ports,
temperatures), runs once over it, on the store's own thread as the agent does; the
figures are its wall time and the process's CPU time for it.

Usage: .venv/bin/python bench/forecast_scale.py [--devices 1000] [--minutes 20]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import yaml
from agent_scale import cpu_model, load_average

from bench.agentscale.fleets import FLEET, SHARD, shard_fleet
from gateway.config.load import LoadedConfig, load_config
from gateway.config.profile import Point, Profile
from gateway.metrics.store.metric_store import MetricStore
from gateway.metrics.store.types import Series
from gateway.model import Reading
from gateway.proactive.forecasting import findings
from gateway.proactive.ports import History
from simulators.fleet import load_fleet
from simulators.siteconfig import site_document

INTERVAL = 30
# A table's instance name -> the fleet spec's count of them.
COUNTS = {
    "port": "ports",
    "disk": "disks",
    "channel": "cameras",
    "trunk": "trunks",
    "zone": "zones",
}


def site(workdir: Path, devices: int) -> tuple[LoadedConfig, dict[str, dict[str, int]]]:
    """The site file of ``devices`` of the fleet, and each device's table sizes."""
    docs, sizes = [], {}
    for shard in range(-(-devices // SHARD)):
        fleet_path = workdir / f"fleet-{shard}.yaml"
        shard_fleet(fleet_path, shard, 100)
        fleet = load_fleet(fleet_path)
        docs.append(site_document(fleet, secrets=workdir))
        for device in fleet.devices:
            spec = device.spec
            sizes[device.id] = {
                table: int(getattr(spec, attr, 0) or 0) for table, attr in COUNTS.items()
            }
    merged = docs[0]
    # An even pick of the mix (the fleet lists its switches first).
    every = [d for doc in docs for d in doc["devices"]]
    picked = [every[i * len(every) // devices] for i in range(devices)]
    # Parents may not be picked; the forecast does not look at the topology.
    merged["devices"] = [{k: v for k, v in d.items() if not k.startswith("parent")} for d in picked]
    merged["agent"] = {"state_dir": str(workdir / "state")}
    path = workdir / "site.yaml"
    path.write_text(yaml.safe_dump(merged, sort_keys=False))
    return load_config(path), sizes


def series_of(profile: Profile, sizes: dict[str, int]) -> list[tuple[str, str]]:
    """(point, instance) of every number one poll of a device of ``profile`` returns
    (text columns are not stored); named as the poller names them."""

    def names(name: str, point: Point) -> list[str]:
        if point.type in ("text", "oid"):
            return []
        out = [name, *(f"{name}.{bit}" for bit in point.bits.values())]
        return [*out, f"{name}.rate"] if point.rate else out

    found = [(n, "") for name, point in profile.points.items() for n in names(name, point)]
    for table_name, table in profile.tables.items():
        count = sizes.get(table.instance) or 2
        for column, point in table.columns.items():
            for n in names(f"{table_name}.{column}", point):
                found += [(n, str(i)) for i in range(1, count + 1)]
    return found


async def fill(
    store: MetricStore,
    clock: list[float],
    config: LoadedConfig,
    sizes: dict[str, dict[str, int]],
    minutes: int,
) -> int:
    keys = {
        d.id: series_of(config.profiles[d.profile], sizes.get(d.id, {})) for d in config.devices
    }
    start = clock[0] - minutes * 60
    total = 0
    for step in range(minutes * 60 // INTERVAL):
        for n, (device, points) in enumerate(keys.items()):
            ts = start + step * INTERVAL + n * INTERVAL / len(keys)
            clock[0] = ts
            when = datetime.fromtimestamp(ts, UTC)
            # A slowly falling line: disks filling, batteries ageing, errors climbing.
            value = 1000.0 - ts / 3600.0
            await store.add([Reading(device, p, value, when, i) for p, i in points])
            total += len(points)
        await store.flush()
    clock[0] = start + minutes * 60
    return total


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--minutes", type=int, default=20, help="history to fill (default 20)")
    parser.add_argument(
        "--budget", type=float, default=300.0, help="seconds before reads one at a time stop"
    )
    args = parser.parse_args()
    print(f"machine: {cpu_model()}; Python {platform.python_version()}; load {load_average()}")
    print(f"code: {sys.modules['gateway'].__file__}; fleet {FLEET.name}")
    with tempfile.TemporaryDirectory(prefix="forecast-scale-") as tmp:
        workdir = Path(tmp)
        config, sizes = site(workdir, args.devices)
        clock = [time.time()]
        store = await MetricStore(workdir / "metrics.db", clock=lambda: clock[0]).open()
        try:
            began = time.monotonic()
            values = await fill(store, clock, config, sizes, args.minutes)
            stats = await store.stats()
            print(
                f"filled: {args.devices} devices, {stats.series} series, {values} samples"
                f" ({args.minutes} min) in {time.monotonic() - began:.0f} s"
            )
            now = datetime.fromtimestamp(clock[0], UTC) + timedelta(seconds=1)
            history = Budgeted(store, args.budget)
            cpu, wall = time.process_time(), time.monotonic()
            try:
                found = len(await findings(config, cast(History, history), now))
                what = "fitted"
            except OutOfTime:
                found = history.series_read
                what = f"read one at a time, stopped after --budget {args.budget:g} s"
            cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        finally:
            await store.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"forecast: {found} series {what} in {wall:.2f} s wall, {cpu:.2f} s CPU"
        f" ({1e3 * cpu / max(1, found):.2f} ms per series); peak RSS {rss:.0f} MiB;"
        f" load {load_average()}"
    )
    return 0


class OutOfTime(Exception):
    pass


class Budgeted:
    """The store as the forecast's history, giving up on one-at-a-time reads after
    ``budget`` seconds (code that reads series one by one can take hours here)."""

    def __init__(self, store: MetricStore, budget: float) -> None:
        self._store = store
        self._deadline = time.monotonic() + budget
        self.series_read = 0
        self.latest = store.latest
        self.points = store.points
        self.instances = store.instances
        # (main before map_series had none: its forecast read one series at a time)
        self.map_series = getattr(store, "map_series", None)

    async def series(self, *args: Any, **kwargs: Any) -> Series:
        if time.monotonic() > self._deadline:
            raise OutOfTime
        self.series_read += 1
        return await self._store.series(*args, **kwargs)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
