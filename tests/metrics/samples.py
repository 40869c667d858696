"""Readings like the pollers produce, for a small site on the shipped profiles."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from drivers.tasks import stop_task
from gateway.metrics.fielddocs import shipped_profiles
from gateway.metrics.influx import MetricsSink
from gateway.metrics.schema import DeviceMeta, MetricSchema, ProfileFields
from gateway.model import Reading
from tests.metrics.victoria import Samples

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
        # Rounded like the poller rounds its RTT (VictoriaMetrics keeps ~15 digits).
        Reading(device, "rtt", round(1.25 + seq / 1000, 3), ts, unit="ms"),
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
        await stop_task(task, reraise=True)


async def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Let the loop run until ``predicate`` holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.01)


def _split(text: str, sep: str) -> list[str]:
    """Split at unescaped ``sep``, unescaping (a backslash takes the next character)."""
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    assert not escaped, f"dangling backslash in {text!r}"
    parts.append("".join(current))
    return parts


def _split_raw(text: str, sep: str) -> list[str]:
    """Split at unescaped ``sep``, keeping the escapes for a later split."""
    parts, start, i = [], 0, 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == sep:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def parse(line: str) -> tuple[str, dict[str, str], dict[str, str], int]:
    """A line back into measurement, tags, fields and time (what the schema writes)."""
    key, fields_text, ts = _split_raw(line, " ")
    measurement, *tag_texts = _split_raw(key, ",")
    tags = dict(_split(tag, "=") for tag in tag_texts)
    fields = dict(_split(field, "=") for field in _split_raw(fields_text, ","))
    return _split(measurement, ",")[0], tags, fields, int(ts)


def samples_of(lines: list[str]) -> Samples:
    """What VictoriaMetrics stores for these lines: one series per measurement_field and
    tag set, values as floats, times in milliseconds."""
    out: Samples = {}
    for line in lines:
        measurement, tags, fields, ts = parse(line)
        labels = tuple(sorted(tags.items()))
        for name, text in fields.items():
            value = float(text.removesuffix("i"))
            out.setdefault((f"{measurement}_{name}", labels), {})[ts] = value
    return out
