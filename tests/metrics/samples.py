"""Readings like the pollers produce, for a small site on the shipped profiles."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from gateway.metrics.fielddocs import shipped_profiles
from gateway.metrics.influx import MetricsSink
from gateway.metrics.schema import DeviceMeta, MetricSchema, ProfileFields
from gateway.model import Reading

_PROFILES = shipped_profiles()
SWITCH = ProfileFields.from_profile(_PROFILES["switch-generic"])
UPS = ProfileFields.from_profile(_PROFILES["ups-rfc1628"])


def site_schema(site: str, switches: int = 1) -> MetricSchema:
    """A site with switches `sw-1`... and one UPS `ups-1`, on the shipped profiles."""
    devices = {f"sw-{n}": DeviceMeta("switch", SWITCH) for n in range(1, switches + 1)}
    devices["ups-1"] = DeviceMeta("ups", UPS)
    return MetricSchema(site, devices)


def switch_poll(device: str, ts: datetime, ports: int = 4, seq: int = 0) -> list[Reading]:
    """One poll of a switch: reachability, system group, ports; values vary with seq."""
    readings = [
        Reading(device, "reachable", True, ts),
        Reading(device, "rtt", 1.25 + seq / 1000, ts, unit="ms"),
        Reading(device, "sys.descr", "Generic switch, rev 2", ts),
        Reading(device, "sys.uptime", 3600.5 + seq, ts, unit="s"),
    ]
    for port in range(1, ports + 1):
        instance = str(port)
        readings += [
            Reading(device, "if.name", f"Gi0/{port}", ts, instance),
            Reading(device, "if.oper_status", "up" if port % 2 else "down", ts, instance),
            Reading(device, "if.admin_status", "up", ts, instance),
            Reading(device, "if.in_octets", 10_000 * port + seq, ts, instance, "B"),
            Reading(device, "if.in_octets.rate", 125.5 * port + seq, ts, instance, "B/s"),
            Reading(device, "if.in_errors.rate", float(seq % 3), ts, instance, "errors/s"),
        ]
    return readings


def ups_poll(device: str, ts: datetime, seq: int = 0) -> list[Reading]:
    return [
        Reading(device, "reachable", True, ts),
        Reading(device, "ups.battery_status", "normal" if seq % 2 else "low", ts),
        Reading(device, "ups.charge", 100 - seq % 50, ts, unit="%"),
        Reading(device, "ups.battery_voltage", 27.3, ts, unit="V"),
        Reading(device, "output.load", 41, ts, "1", "%"),
    ]


@contextlib.asynccontextmanager
async def sink_running(sink: MetricsSink) -> AsyncIterator[asyncio.Task[None]]:
    """The sink's task for the block; cancelled and awaited after it."""
    task = asyncio.create_task(sink.run(), name="influx-sink")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Let the loop run until ``predicate`` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.01)
