"""CPU cost of the correlation stage in an outage storm: N devices unreachable at once.

Feeds N ``device.unreachable`` conditions, one by one as the pipeline does, into
:class:`Dependencies` (the stage's dependency and storm part; no broker, no poller),
and prints the CPU time per condition. Two shapes:

- ``parent``: N devices behind ``--parents`` switches that are down too (raised
  first): every device is listed on its switch's incident.
- ``storm``: N devices behind ``--parents`` unmanaged switches (no unreachable rule,
  so nothing to probe): the devices form storms (segment down).

    .venv/bin/python bench/correlate_storm.py --devices 500 1000 3000 --parents 1 10

A cost per condition that grows with N is the stage falling behind in a storm.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

from gateway.correlate.dependencies import Dependencies
from gateway.correlate.topology import GATEWAY, Node, Topology
from gateway.model import Condition, Level

UNREACHABLE = "device.unreachable"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
INTERVAL = 30.0


def site(devices: int, parents: int, managed: bool) -> Topology:
    code = UNREACHABLE if managed else None
    nodes = [Node("core", GATEWAY, INTERVAL, UNREACHABLE)]
    nodes += [Node(f"sw-{p}", "core", INTERVAL, code) for p in range(parents)]
    nodes += [Node(f"dev-{i}", f"sw-{i % parents}", INTERVAL, UNREACHABLE) for i in range(devices)]
    return Topology(nodes)


def unreachable(device: str, seconds: float, level: Level = Level.L2) -> Condition:
    return Condition(
        device=device,
        code=UNREACHABLE,
        level=level,
        title=f"{device} unreachable",
        active=True,
        since=T0 + timedelta(seconds=seconds),
    )


async def run(shape: str, devices: int, parents: int) -> tuple[float, int]:
    """CPU seconds spent in on_condition for the N devices, and the changes emitted."""
    managed = shape == "parent"
    down = {f"sw-{p}" for p in range(parents)} if managed else set()

    async def probe(device: str) -> bool:
        return device not in down and not device.startswith("dev-")

    deps = Dependencies(site(devices, parents, managed), probe, link=lambda: None)
    emitted = 0
    if managed:
        for p in range(parents):
            emitted += len(await deps.on_condition(unreachable(f"sw-{p}", 60)))
        emitted += len(await deps.on_tick(T0 + timedelta(seconds=200)))
    # The devices are raised over one poll interval (polls are spread over it).
    step = INTERVAL / devices
    conditions = [unreachable(f"dev-{i}", 200 + i * step) for i in range(devices)]
    start = time.process_time()
    for condition in conditions:
        emitted += len(await deps.on_condition(condition))
    spent = time.process_time() - start
    return spent, emitted


def main() -> None:
    logging.disable(logging.WARNING)  # a storm logs by design: not what is measured
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, nargs="+", default=[500, 1000, 3000])
    parser.add_argument("--parents", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--shapes", nargs="+", default=["parent", "storm"])
    args = parser.parse_args()
    print(f"{'shape':<7} {'parents':>7} {'devices':>7} {'cpu s':>8} {'us/cond':>9} {'out':>5}")
    for shape in args.shapes:
        for parents in args.parents:
            for devices in args.devices:
                spent, emitted = asyncio.run(run(shape, devices, parents))
                per = spent / devices * 1e6
                print(
                    f"{shape:<7} {parents:>7} {devices:>7} {spent:>8.2f} {per:>9.0f} {emitted:>5}"
                )


if __name__ == "__main__":
    main()
