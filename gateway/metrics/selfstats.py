"""The gateway's own health as readings of the device ``gateway`` (measurement
``lvgw_gateway``): polls, outbox, MQTT, the InfluxDB sink, CPU and memory.

    health = SelfStats(outbox=outbox, mqtt_connected=lambda: uplink.stats.connected,
                       sink=sink.stats)
    health.observe(result)                           # for every PollResult
    group.create_task(health.run(sink.submit, every=30.0), name="selfstats")

Poll figures are per interval (since the previous snapshot); the outbox's, the sink's
and the process's are running totals or levels. Every field is listed in
`GATEWAY_FIELDS`, which docs/metrics.md is checked against.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gateway.metrics.influx import SinkStats
from gateway.metrics.schema import GATEWAY_DEVICE
from gateway.model import Reading
from gateway.outbox import PRIORITY, Outbox
from gateway.poller import PollResult


@dataclass(frozen=True, slots=True)
class HealthField:
    name: str
    unit: str
    meaning: str
    per_class: bool = False  # one value per outbox class (tag instance=<class>)
    flag: bool = False  # a 0/1 integer rather than a float


GATEWAY_FIELDS: tuple[HealthField, ...] = (
    HealthField("poll.count", "", "polls finished since the previous snapshot"),
    HealthField("poll.errors", "", "of those, polls that failed (no answer, or refused)"),
    HealthField("poll.duration_avg", "ms", "mean duration of the answered polls"),
    HealthField("poll.duration_max", "ms", "longest answered poll"),
    HealthField("devices.unreachable", "", "devices whose last poll got no answer"),
    HealthField("mqtt.connected", "", "1 while connected to the MQTT broker", flag=True),
    HealthField("process.cpu_seconds", "s", "CPU time used since start, user + system"),
    HealthField("process.rss_bytes", "B", "resident memory"),
    HealthField("outbox.disk_bytes", "B", "outbox database file plus its write-ahead log"),
    HealthField("outbox.backlog_messages", "", "messages waiting", per_class=True),
    HealthField("outbox.backlog_bytes", "B", "their payload and topic bytes", per_class=True),
    HealthField("outbox.oldest_age", "s", "age of the oldest waiting message", per_class=True),
    HealthField(
        "outbox.dropped_messages", "", "dropped by budget or full disk, ever", per_class=True
    ),
    HealthField("outbox.dropped_bytes", "B", "their bytes", per_class=True),
    HealthField("influx.ok", "", "1 when the last InfluxDB write succeeded", flag=True),
    HealthField("influx.written_lines", "", "lines InfluxDB accepted since start"),
    HealthField("influx.spilled_batches", "", "batches stored in the outbox since start"),
    HealthField("influx.rejected_batches", "", "batches InfluxDB refused as malformed"),
    HealthField("influx.lost_batches", "", "batches the outbox could not store"),
    HealthField("influx.queue_dropped_readings", "", "readings dropped: the sink fell behind"),
)


def process_usage(proc: Path = Path("/proc/self")) -> tuple[float, int] | None:
    """CPU seconds (user + system) and resident bytes of this process, from /proc;
    None where there is no /proc."""
    try:
        stat = (proc / "stat").read_text()
        statm = (proc / "statm").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count after the last ")".
    after_name = stat[stat.rindex(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(after_name[11]) + int(after_name[12])) / ticks  # utime, stime
    rss = int(statm.split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return cpu, rss


@dataclass(slots=True)
class _Snapshot:
    at: datetime
    readings: list[Reading]

    def add(self, name: str, value: float | bool, unit: str = "", instance: str = "") -> None:
        self.readings.append(Reading(GATEWAY_DEVICE, name, value, self.at, instance, unit))


class SelfStats:
    """Collects the gateway's health; `readings()` takes a snapshot."""

    def __init__(
        self,
        *,
        outbox: Outbox | None = None,
        mqtt_connected: Callable[[], bool] | None = None,
        sink: Callable[[], SinkStats] | None = None,
        proc: Path = Path("/proc/self"),
    ) -> None:
        self.outbox = outbox
        self.mqtt_connected = mqtt_connected
        self.sink = sink
        self.proc = proc
        self._polls = 0
        self._errors = 0
        self._durations: list[float] = []
        self._down: dict[str, bool] = {}

    def observe(self, result: PollResult) -> None:
        """Count one poll (call it for every PollResult)."""
        self._polls += 1
        if not result.reachable or result.error:
            self._errors += 1
        self._down[result.device] = not result.reachable
        for reading in result.readings:
            if reading.point == "rtt" and isinstance(reading.value, int | float):
                self._durations.append(float(reading.value))
                break

    async def readings(self, ts: datetime | None = None) -> list[Reading]:
        """The health now; poll figures cover the time since the previous call."""
        snapshot = _Snapshot(ts or datetime.now(UTC), [])
        add = snapshot.add
        add("poll.count", float(self._polls))
        add("poll.errors", float(self._errors))
        if self._durations:
            add("poll.duration_avg", sum(self._durations) / len(self._durations), "ms")
            add("poll.duration_max", max(self._durations), "ms")
        add("devices.unreachable", float(sum(self._down.values())))
        self._polls = self._errors = 0
        self._durations = []
        if self.mqtt_connected is not None:
            add("mqtt.connected", bool(self.mqtt_connected()))
        usage = process_usage(self.proc)
        if usage is not None:
            add("process.cpu_seconds", usage[0], "s")
            add("process.rss_bytes", float(usage[1]), "B")
        if self.outbox is not None and not self.outbox.closed:
            await self._outbox(snapshot)
        if self.sink is not None:
            self._sink(self.sink(), snapshot)
        return snapshot.readings

    async def run(
        self, submit: Callable[[Iterable[Reading]], Awaitable[None]], every: float = 30.0
    ) -> None:
        """Submit a snapshot every ``every`` seconds until cancelled."""
        while True:
            await asyncio.sleep(every)
            await submit(await self.readings())

    async def _outbox(self, snapshot: _Snapshot) -> None:
        assert self.outbox is not None
        add = snapshot.add
        stats = await self.outbox.stats()
        add("outbox.disk_bytes", float(stats.disk_bytes), "B")
        for message_class in PRIORITY:
            name = message_class.value
            backlog = stats.backlog.get(message_class)
            dropped = stats.dropped.get(message_class)
            if backlog is not None:
                add("outbox.backlog_messages", float(backlog.messages), "", name)
                add("outbox.backlog_bytes", float(backlog.bytes), "B", name)
                add("outbox.oldest_age", float(backlog.oldest_age_s or 0.0), "s", name)
            if dropped is not None:
                add("outbox.dropped_messages", float(dropped.messages), "", name)
                add("outbox.dropped_bytes", float(dropped.bytes), "B", name)

    @staticmethod
    def _sink(stats: SinkStats, snapshot: _Snapshot) -> None:
        add = snapshot.add
        if stats.influx_ok is not None:
            add("influx.ok", stats.influx_ok)
        add("influx.written_lines", float(stats.written_lines))
        add("influx.spilled_batches", float(stats.spilled_batches))
        add("influx.rejected_batches", float(stats.rejected_batches))
        add("influx.lost_batches", float(stats.lost_batches))
        add("influx.queue_dropped_readings", float(stats.queue_dropped_readings))
