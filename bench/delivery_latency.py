"""Ticket delivery: from a fault to its event on a real mosquitto, through the whole gateway.

    .venv/bin/python bench/delivery_latency.py [--quick]

The gateway is composed as `lvgw run` composes it (gateway/agent.py): poll results and
trap readings go through one queue to the Pipeline (rules -> TicketBook -> Outbox: the
ticket state and its events in one fsynced transaction, what waits in the queue decided
together), and MqttUplink publishes the outbox (QoS 1, PUBACK reason codes) to
mosquitto. The service center is mosquitto_sub in its own process, which
stamps each message on receipt (``%U``, wall clock). Measured:

1. poll path: the PollResult that raises a condition (a device's third failed poll) put
   on the pipeline's queue, to the ``open`` event at the subscriber; from the result's
   timestamp.
2. trap path: an SNMPv2c linkDown datagram, captured once from net-snmp's snmptrap and
   sent from the device's own loopback address, to the ``open`` event at the
   subscriber; from just before ``sendto``. The route: TrapReceiver (pysnmp) ->
   TrapIntake (sender -> device, trap -> readings) -> the queue -> Pipeline -> outbox
   -> uplink -> broker. The profile raises the fault on the trap's reading itself
   (the shipped profiles instead poll the device at once; that poll is not measured).
   Also, as an upper bound, the same with a fresh ``snmptrap`` process per trap, from
   its start.
3. throughput: a storm of poll results that opens and resolves N incidents, put on
   the queue at once; events/s decided (durably) and delivered.
4. drain: the backlog of a one-hour outage of a 1,000-device site (120,000 metric
   messages of ~1 KB and 2,000 ticket events, all QoS 1) stored while the broker is
   away, then delivered by MqttUplink; time until the tickets and until everything is
   acknowledged.

Samples are taken one at a time with a random pause, on an otherwise idle gateway.
mosquitto runs with ``set_tcp_nodelay true`` (docs/mqtt.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from drivers.snmp.traps import TrapReceiver
from gateway.agent import DECISION_BATCH
from gateway.config.load import LoadedConfig, load_config
from gateway.config.protocols.snmp import Traps
from gateway.config.site import Mqtt
from gateway.config.types import Secret
from gateway.demo.processes import Mosquitto, free_port, which
from gateway.outbox import MessageClass, Outbox, OutboxMessage
from gateway.pipeline import Pipeline, load_tickets
from gateway.poller import PollResult
from gateway.protocols.snmp.traps import TrapIntake, receiver_config
from gateway.uplink import MqttUplink

SITE = "bench"
TICKETS = f"lvgw/v1/{SITE}/tickets"
LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
IF_OPER_STATUS_1 = "1.3.6.1.2.1.2.2.1.8.1"

PROFILE = f"""\
description: A switch that reports link loss by trap (delivery benchmark)
kinds: [switch]
protocol: snmp
points:
  sys.uptime: {{oid: 1.3.6.1.2.1.1.3.0, type: timeticks}}
traps:
  link_down:
    oid: {LINK_DOWN}
    values: {{oper_status: 1.3.6.1.2.1.2.2.1.8}}
    poll: false
rules:
  - code: device.unreachable
    type: unreachable
    title: "{{device}} is unreachable"
    level: 1
    raise_after: 3
    clear_after: 2
  - code: link.down_reported
    type: check
    title: "{{device}} reported a link down"
    level: 2
    when: {{point: trap.link_down.oper_status, eq: 2}}
"""


def device_address(group: int, n: int) -> str:
    """Each device its own loopback address, so a trap's sender names its device."""
    return f"127.{group}.{n // 250}.{n % 250 + 1}"


def write_site(directory: Path, broker: int, groups: dict[str, int]) -> Path:
    (directory / "profiles").mkdir(parents=True)
    (directory / "profiles" / "bench-switch.yaml").write_text(PROFILE)
    devices = "".join(
        f"  - {{id: {prefix}{n:04d}, kind: switch, profile: bench-switch,"
        f" address: {device_address(group, n)}}}\n"
        for group, (prefix, count) in enumerate(groups.items(), start=10)
        for n in range(count)
    )
    site = directory / "site.yaml"
    site.write_text(
        f"site: {{id: {SITE}, name: Bench, contract: {{type: annual}},"
        " customer: {name: C, contact: A, phone: '1', address: R}}\n"
        f"uplink: {{mqtt: {{host: 127.0.0.1, port: {broker}}}}}\n"
        f"agent: {{state_dir: {directory / 'state'}}}\n"
        f"devices:\n{devices}"
    )
    return site


class Subscriber:
    """mosquitto_sub on the tickets topic; each event with its receipt time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: dict[tuple[str, str], float] = {}  # (device, event) -> receipt
        self.count = 0
        self.changed = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Subscriber]:
        proc = await asyncio.create_subprocess_exec(
            which("mosquitto_sub"), "-p", str(self.port), "-V", "5", "-q", "1",
            "-i", "bench-center", "-t", TICKETS, "-t", "bench/probe", "-F", "%U %t %p",
            stdout=asyncio.subprocess.PIPE, limit=1 << 20,
        )  # fmt: skip
        reader = asyncio.create_task(self._read(proc))
        try:
            await self._subscribed()
            yield self
        finally:
            proc.terminate()
            await proc.wait()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _subscribed(self) -> None:
        while ("probe", "probe") not in self.received:
            await asyncio.to_thread(
                subprocess.run,
                [which("mosquitto_pub"), "-p", str(self.port), "-t", "bench/probe", "-m", "x"],
                check=True,
            )
            with contextlib.suppress(TimeoutError):
                await self.wait_for(("probe", "probe"), 0.5)

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        async for line in proc.stdout:
            stamp, topic, payload = line.decode().rstrip("\n").split(" ", 2)
            key = ("probe", "probe")
            if topic == TICKETS:
                event = json.loads(payload)
                key = (event["device"]["id"], event["event"])
            async with self.changed:
                self.received.setdefault(key, float(stamp))
                self.count += topic == TICKETS
                self.changed.notify_all()

    async def wait_for(self, key: tuple[str, str], timeout: float = 10) -> float:
        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(lambda: key in self.received)
        return self.received[key]

    async def wait_count(self, count: int, timeout: float) -> None:
        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(lambda: self.count >= count)


class BenchGateway:
    """Outbox, ticket store, pipeline, uplink, trap receiver and intake on one loop."""

    def __init__(self, config: LoadedConfig, trap_port: int) -> None:
        self.config = config
        self.trap_port = trap_port
        self.queue: asyncio.Queue[PollResult] = asyncio.Queue()
        self.stored: dict[str, float] = {}  # device -> when its last decision was stored
        self._stored_changed = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[BenchGateway]:
        state = self.config.site_file.agent.state_dir
        state.mkdir(parents=True)
        traps = Traps(listen=f"127.0.0.1:{self.trap_port}", communities=[Secret("public")])
        async with (
            Outbox(state / "outbox.db") as outbox,
            TrapReceiver(receiver_config(traps)) as receiver,
        ):
            self.pipeline = Pipeline(self.config, outbox, await load_tickets(outbox))
            self.uplink = MqttUplink(self.config.site_file.uplink.mqtt, SITE, outbox)
            intake = TrapIntake(self.config, self.queue)
            tasks = [
                asyncio.create_task(self.uplink.run()),
                asyncio.create_task(intake.run(receiver)),
                asyncio.create_task(self._consume()),
            ]
            await asyncio.wait_for(self.uplink.connected.wait(), 10)
            try:
                yield self
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _consume(self) -> None:  # as Agent._consume
        while True:
            batch = [await self.queue.get()]
            while len(batch) < DECISION_BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            await self.pipeline.handle_batch(batch)
            async with self._stored_changed:
                for result in batch:
                    self.stored[result.device] = time.time()
                self._stored_changed.notify_all()

    async def stored_at(self, device: str) -> float:
        """When the decision for ``device`` was stored (Pipeline.handle returned); the
        uplink may have published it a moment before."""
        async with self._stored_changed:
            await self._stored_changed.wait_for(lambda: device in self.stored)
        return self.stored.pop(device)


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50 * 1e3:.1f} ms, p99 {p99 * 1e3:.1f} ms, max {ordered[-1] * 1e3:.1f} ms"


async def pause() -> None:
    await asyncio.sleep(random.uniform(0.005, 0.025))  # pacing, so samples do not queue


def failed_poll(device: str) -> PollResult:
    return PollResult(device, datetime.now(UTC), False, (), error="timeout")


async def bench_poll_path(gw: BenchGateway, center: Subscriber, devices: list[str]) -> None:
    latency, decided = [], []
    for device in devices:
        for _ in range(2):  # the first two failures raise nothing (raise_after: 3)
            await gw.queue.put(failed_poll(device))
        third = failed_poll(device)
        await gw.queue.put(third)
        received = await center.wait_for((device, "open"))
        latency.append(received - third.ts.timestamp())
        decided.append(await gw.stored_at(device) - third.ts.timestamp())
        await pause()
    print(f"poll path, {len(devices)} faults: poll result -> event at the subscriber: "
          f"{percentiles(latency)}")  # fmt: skip
    print(f"  of which poll result -> stored in the outbox: {percentiles(decided)}")


def capture_trap() -> bytes:
    """The datagram net-snmp's snmptrap sends for linkDown with ifOperStatus.1 = down."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))
        sink.settimeout(5)
        subprocess.run(
            [which("snmptrap"), "-v", "2c", "-c", "public", f"127.0.0.1:{sink.getsockname()[1]}",
             "", LINK_DOWN, IF_OPER_STATUS_1, "i", "2"],
            check=True,
        )  # fmt: skip
        return sink.recv(65535)


async def bench_trap_path(
    gw: BenchGateway, center: Subscriber, devices: list[str], group: int
) -> list[float]:
    datagram = capture_trap()
    latency, decided = [], []
    for n, device in enumerate(devices):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.bind((device_address(group, n), 0))
            sent = time.time()
            sender.sendto(datagram, ("127.0.0.1", gw.trap_port))
        received = await center.wait_for((device, "open"))
        latency.append(received - sent)
        decided.append(await gw.stored_at(device) - sent)
        await pause()
    print(f"trap path, {len(devices)} traps: datagram sent -> event at the subscriber: "
          f"{percentiles(latency)}")  # fmt: skip
    print(f"  of which datagram sent -> stored in the outbox: {percentiles(decided)}")
    return latency


async def bench_snmptrap_processes(
    gw: BenchGateway, center: Subscriber, devices: list[str], group: int
) -> None:
    latency = []
    for n, device in enumerate(devices):
        started = time.time()
        proc = await asyncio.create_subprocess_exec(
            which("snmptrap"), "-v", "2c", "-c", "public",
            f"--clientaddr={device_address(group, n)}", f"127.0.0.1:{gw.trap_port}",
            "", LINK_DOWN, IF_OPER_STATUS_1, "i", "2",
        )  # fmt: skip
        received = await center.wait_for((device, "open"))
        await proc.wait()
        latency.append(received - started)
        await pause()
    print(f"trap path with a new snmptrap process per trap, {len(devices)} traps: "
          f"process start -> event at the subscriber: {percentiles(latency)}")  # fmt: skip


async def bench_storm(gw: BenchGateway, center: Subscriber, devices: list[str]) -> None:
    """Every device fails three polls (opens), then answers two (resolves)."""
    base = center.count
    started = time.time()
    rounds = [False, False, False, True, True]
    for answered in rounds:
        for device in devices:
            await gw.queue.put(PollResult(device, datetime.now(UTC), answered, ()))
    events = 2 * len(devices)
    await center.wait_count(base + events, 120)
    delivered = time.time() - started
    decided = max(gw.stored[d] for d in devices) - started
    print(f"storm of {len(devices)} incidents ({events} events, {len(rounds) * len(devices)} "
          f"poll results at once): decided and stored {events / decided:,.0f} events/s "
          f"({decided:.2f} s), delivered {events / delivered:,.0f} events/s "
          f"({delivered:.2f} s)")  # fmt: skip


async def drain_through_uplink(outbox: Outbox, port: int, client_id: str) -> tuple[float, int]:
    """Run MqttUplink until it has nothing left to send (tickets and control: metric
    batches are the InfluxDB sink's); seconds taken, messages delivered."""
    uplink = MqttUplink(Mqtt(host="127.0.0.1", port=port, client_id=client_id), SITE, outbox)
    started = time.perf_counter()
    task = asyncio.create_task(uplink.run())
    while True:  # the outbox has no "empty" event to wait for: poll its statistics
        tickets = (await outbox.stats()).backlog[MessageClass.TICKET].messages
        if tickets == 0 and uplink.connected.is_set():
            break
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - started
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return elapsed, uplink.stats.delivered


async def bench_outage_drain(directory: Path, port: int, scale: float) -> None:
    """The outbox after a one-hour outage of a 1,000-device site; then a long outage's
    worth of tickets alone, for the uplink's publishing rate."""
    metrics, tickets = int(120_000 * scale), int(2_000 * scale)
    metric_topic = f"lvgw/v1/{SITE}/metrics"
    async with Outbox(directory / "outage.db") as outbox:
        started = time.perf_counter()
        per_round = 1000  # a poll round: one metric message per device, every 30 s
        for n in range(0, metrics, per_round):
            batch = [
                OutboxMessage(metric_topic, b"m" * 1000, 0, False, MessageClass.METRIC)
                for _ in range(min(per_round, metrics - n))
            ]
            if n * tickets // metrics < (n + per_round) * tickets // metrics:
                share = (n + per_round) * tickets // metrics - n * tickets // metrics
                batch += [OutboxMessage(TICKETS, b"t" * 700) for _ in range(share)]
            await outbox.put_many(batch)
        stored = time.perf_counter() - started
        drained, delivered = await drain_through_uplink(outbox, port, "lvgw-drain")
        left = (await outbox.stats()).backlog[MessageClass.METRIC].messages
    print(f"one-hour outage of a 1,000-device site x{scale:g} ({metrics:,} metric messages, "
          f"{tickets:,} ticket events): stored in {stored:.1f} s; all tickets delivered by "
          f"MqttUplink {drained:.2f} s after it started ({delivered:,} messages published; "
          f"{left:,} metric messages left for the InfluxDB sink)")  # fmt: skip

    backlog = int(20_000 * scale)  # ten hours of that bad hour's tickets
    async with Outbox(directory / "tickets.db") as outbox:
        for n in range(0, backlog, 1000):
            await outbox.put_many(
                OutboxMessage(TICKETS, b"t" * 1000) for _ in range(min(1000, backlog - n))
            )
        drained, delivered = await drain_through_uplink(outbox, port, "lvgw-drain-2")
    print(f"a backlog of {backlog:,} ticket events of 1 KB drained through MqttUplink in "
          f"{drained:.1f} s ({delivered / drained:,.0f} events/s)")  # fmt: skip


def machine() -> str:
    model = "?"
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    mosquitto = subprocess.run([which("mosquitto"), "-h"], capture_output=True, text=True)
    version = mosquitto.stdout.splitlines()[0] if mosquitto.stdout else "?"
    return (
        f"{model}, {len(os.sched_getaffinity(0))} cores; Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}; {version}"
    )


async def main(quick: bool) -> None:
    samples = 60 if quick else 400
    groups = {"poll-": samples, "trap-": samples, "proc-": samples // 4, "storm-": 500}
    print(machine())
    with tempfile.TemporaryDirectory(prefix="lvgw-bench-") as tmp:
        directory = Path(tmp)
        broker = Mosquitto(directory / "broker", extra_config="set_tcp_nodelay true\n")
        broker.start()
        try:
            config = load_config(write_site(directory, broker.port, groups))
            names = {p: [f"{p}{n:04d}" for n in range(c)] for p, c in groups.items()}
            async with (
                Subscriber(broker.port).running() as center,
                BenchGateway(config, free_port(socket.SOCK_DGRAM)).running() as gw,
            ):
                await bench_poll_path(gw, center, names["poll-"])
                trap = await bench_trap_path(gw, center, names["trap-"], 11)
                await bench_snmptrap_processes(gw, center, names["proc-"], 12)
                await bench_storm(gw, center, names["storm-"])
            await bench_outage_drain(directory, broker.port, 0.1 if quick else 1.0)
        finally:
            broker.stop()
    p99 = sorted(trap)[min(len(trap) - 1, int(len(trap) * 0.99))]
    verdict = "met" if p99 < 0.050 else "NOT met"
    print(f"target: trap path p99 under 50 ms: {verdict} ({p99 * 1e3:.1f} ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples, a tenth of the outage")
    asyncio.run(main(parser.parse_args().quick))
