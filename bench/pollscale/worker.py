"""One measurement of one Python client, run in a fresh process so RSS is its own.

Prints a JSON object: CPU seconds of this process (``time.process_time``), values
received, wall time, RSS.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.pollscale.fleet import GET_OIDS, IF_COLUMNS, MAX_REPETITIONS
from drivers.snmp.base import SnmpClient, SnmpError, SnmpTarget


def _client(kind: str) -> SnmpClient:
    if kind == "lean":
        from drivers.snmp.lean import LeanSnmpClient

        return LeanSnmpClient()
    from drivers.snmp.pysnmp_client import PysnmpClient

    return PysnmpClient()


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def _poll(client: SnmpClient, target: SnmpTarget, what: str) -> int:
    try:
        if what == "get":
            return len(await client.get(target, GET_OIDS))
        if what == "walk":
            return len(await client.walk(target, IF_COLUMNS, MAX_REPETITIONS))
        got = await client.get(target, GET_OIDS)
        return len(got) + len(await client.walk(target, IF_COLUMNS, MAX_REPETITIONS))
    except SnmpError:
        return -1_000_000  # makes a failed poll impossible to miss in the totals


async def _flat(client: SnmpClient, targets: list[SnmpTarget], what: str, rounds: int) -> int:
    values = 0
    for _ in range(rounds):
        values += sum(await asyncio.gather(*(_poll(client, t, what) for t in targets)))
    return values


async def _paced(
    client: SnmpClient, targets: list[SnmpTarget], what: str, interval: float, seconds: float
) -> int:
    """Each device polled once per ``interval``, start times spread evenly over it."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    end = start + seconds
    totals = [0]

    async def device(i: int, target: SnmpTarget) -> None:
        due = start + interval * i / len(targets)
        while due < end:
            await asyncio.sleep(max(0.0, due - loop.time()))
            totals[0] += await _poll(client, target, what)
            due += interval

    async with asyncio.TaskGroup() as group:
        for i, target in enumerate(targets):
            group.create_task(device(i, target))
    return totals[0]


async def _measure(kind: str, mode: str, ports: list[int], args: dict[str, Any]) -> dict[str, Any]:
    client = _client(kind)
    targets = [SnmpTarget("127.0.0.1", p, timeout=5.0, retries=1) for p in ports]
    what = args["what"]
    run: Callable[[], Awaitable[int]]
    if mode == "flat":
        run = lambda: _flat(client, targets, what, args["rounds"])  # noqa: E731
    else:
        run = lambda: _paced(client, targets, what, args["interval"], args["seconds"])  # noqa: E731
    try:
        await _flat(client, targets, what, 1)  # warm-up: sockets, caches, engine discovery
        cpu0, wall0 = time.process_time(), time.perf_counter()
        values = await run()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    finally:
        await client.close()
    return {
        "cpu_s": cpu,
        "wall_s": wall,
        "values": values,
        "rss_mib": _rss_mib(),
        "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    kind, mode, ports_csv, args_json = sys.argv[1:5]
    ports = [int(p) for p in ports_csv.split(",")]
    result = asyncio.run(_measure(kind, mode, ports, json.loads(args_json)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
