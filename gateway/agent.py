"""The agent: pollers -> pipeline -> outbox -> MQTT, in one TaskGroup."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from drivers.tasks import stop_task, stop_tasks
from gateway import snapshot
from gateway.config.errors import ConfigError
from gateway.config.load import LoadedConfig
from gateway.correlate import MAINTENANCE_COMMAND_SCHEMA, handle_maintenance_command
from gateway.metrics import InfluxSettings, MetricSchema, MetricsSink, SelfStats
from gateway.metrics.store import MetricStore, StoreConfig
from gateway.metrics.store.history import METRICS_NAME
from gateway.model import Reading
from gateway.outbox import Outbox
from gateway.outbox.errors import OutboxError, OutboxFullError
from gateway.pipeline import Pipeline, load_tickets
from gateway.poller import DeviceSchedule, PollResult
from gateway.poller.schedule import PointReader, poll_within
from gateway.protocols.base import Counted, PushSource
from gateway.protocols.registry import Drivers
from gateway.reconfigure import Reconfigure
from gateway.services import SiteServices
from gateway.signing import Verifier, load_key
from gateway.supervisor import Supervisor
from gateway.tickets.store import TicketStoreError
from gateway.uplink import MqttUplink
from gateway.uplink.inbound import Command, Inbound
from gateway.views.offsite import OffsiteCommands

log = logging.getLogger("lvgw.agent")

MAX_POLLS_IN_FLIGHT = 128
DECISION_BATCH = 256  # poll results decided together and committed in one transaction
LEGACY_TICKETS = "tickets.db"  # the ticket store of earlier versions, moved into the outbox
TICK_SECONDS = 1.0
SNAPSHOT_EVERY = 5  # ticks
HEALTH_EVERY = 30.0  # seconds between two readings of the gateway's own health


class Agent:
    def __init__(self, config: LoadedConfig, previous: Verifier | None = None) -> None:
        """``previous``: the check of signed commands of the agent this one follows in
        the same process (after a new site file), whose nonces stay used."""
        self.config = config
        self._previous_verifier = previous
        self.command_verifier: Verifier | None = None
        self.drivers = Drivers(config)
        self.results: asyncio.Queue[PollResult] = asyncio.Queue(maxsize=10_000)
        self._probes: dict[str, PointReader] = {}
        self.metrics: MetricStore | None = None
        self.sink: MetricsSink | None = None
        self.selfstats = SelfStats()
        self.state_dir = config.site_file.agent.state_dir
        self.services: SiteServices | None = None
        self.started = asyncio.Event()  # every part runs: systemd's READY=1
        self.supervisor = Supervisor(fatal=_fatal)
        self._status: Callable[[], str] = lambda: "starting"
        self._sources: list[PushSource] = []  # started, for their counts in the snapshot
        self.reconfigure: Reconfigure | None = None
        self._started = time.monotonic()
        # cmd/config swapped the site file: the agent stops and runs again on it.
        self.reload_requested = False
        self._reload = asyncio.Event()

    def request_reload(self) -> None:
        """Stop, for the command line to run the agent again on the site file now in
        place (gateway/reconfigure.py)."""
        self.reload_requested = True
        self._reload.set()

    def reader(self, device_id: str) -> PointReader:
        return self.drivers.reader(self.config.device(device_id))

    async def probe(self, device_id: str) -> bool:
        """Poll a device now, out of its schedule, with a reader of its own (the
        scheduled one keeps its down flag and counter rates undisturbed)."""
        reader = self._probes.get(device_id)
        if reader is None:
            reader = self._probes[device_id] = self.reader(device_id)
        deadline = self.config.site_file.limits.poll_deadline
        return (await poll_within(reader, device_id, deadline)).reachable

    def schedules(self) -> Sequence[DeviceSchedule]:
        limit = asyncio.Semaphore(MAX_POLLS_IN_FLIGHT)
        limits = self.config.site_file.limits
        schedules = []
        for device in self.config.devices:
            reader = self.reader(device.id)
            schedules.append(
                DeviceSchedule(
                    device.id,
                    reader,
                    device.interval,
                    self.results,
                    limit=limit,
                    deadline=limits.poll_deadline,
                    early_every=limits.trap_poll_every,
                )
            )
        return schedules

    def verifier(self) -> Verifier | None:
        """The check of signed commands, when the site file names a command key."""
        key_file = self.config.site_file.uplink.command_key_file
        if key_file is None:
            log.warning("inbound acks and commands are not signed: no uplink.command_key_file")
            return None
        key = load_key(key_file)
        if self._previous_verifier is not None:
            return self._previous_verifier.carried_over(key)
        return Verifier(key)

    def commands(self, pipeline: Pipeline) -> dict[str, tuple[dict[str, Any], Command]]:
        """Commands the service center may send on cmd/<name>."""
        commands = OffsiteCommands(self.config).commands()  # report, status
        windows = pipeline.maintenance
        if windows is None:
            return commands

        async def maintenance(body: dict[str, Any]) -> dict[str, Any]:
            return handle_maintenance_command(windows, body)

        return {**commands, "maintenance": (MAINTENANCE_COMMAND_SCHEMA, maintenance)}

    async def _consume(self, pipeline: Pipeline) -> None:
        while True:
            # What waits in the queue is decided together: one commit for the batch.
            batch = [await self.results.get()]
            while len(batch) < DECISION_BATCH and not self.results.empty():
                batch.append(self.results.get_nowait())
            await pipeline.handle_batch(batch)
            for result in batch:
                self._record(result.readings)
                self.selfstats.observe(result)

    def _record(self, readings: Sequence[Reading]) -> None:
        """Readings to the metric sinks: never waits on a disk or a network."""
        if self.metrics is not None:
            self.metrics.add_nowait(readings)
        if self.sink is not None:
            self.sink.offer(readings)

    async def _health(self, every: float = HEALTH_EVERY) -> None:
        """The gateway's own health, as readings of device "gateway", every so often."""
        while True:
            await asyncio.sleep(every)
            self._record(await self.selfstats.readings())

    async def _tick(self, pipeline: Pipeline, uplink: MqttUplink) -> None:
        ticks = 0
        while True:
            await asyncio.sleep(TICK_SECONDS)
            await pipeline.tick(datetime.now(UTC))
            ticks += 1
            if ticks % SNAPSHOT_EVERY == 1:
                await self.write_snapshot(pipeline, uplink)

    async def write_snapshot(self, pipeline: Pipeline, uplink: MqttUplink) -> None:
        stats = await pipeline.outbox.stats()
        link = snapshot.UplinkStatus(
            connected=uplink.stats.connected,
            protocol=uplink.stats.protocol,
            delivered=uplink.stats.delivered,
            refused=uplink.stats.refused,
            last_refusal=uplink.stats.last_refusal or None,
            backlog={str(c): b.messages for c, b in stats.backlog.items() if b.messages},
        )
        health = pipeline.health()
        # The first health waits for every device's first poll (or health_every), not
        # to spend its slot on a list of devices not polled yet.
        polled = all(d["state"] != "unknown" for d in health["devices"].values())
        if polled or time.monotonic() - self._started >= uplink.health_every:
            uplink.set_health(health)
        data = pipeline.snapshot(link)
        agent = data.agent.model_copy(
            update={
                "degraded": tuple(self.supervisor.degraded()),
                "failures": self.supervisor.failures(),
                "intake": {s.name: s.counters() for s in self._sources if isinstance(s, Counted)},
            }
        )
        data = data.model_copy(update={"agent": agent})
        await asyncio.to_thread(snapshot.write, self.state_dir, data)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; then stop polling and say "offline"."""
        site = self.config.site_file.site
        log.info("agent starting site=%s devices=%d", site.id, len(self.config.devices))
        self.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            async with (
                Outbox(self.state_dir / "outbox.db") as outbox,
                MetricStore(
                    self.state_dir / METRICS_NAME, config=self._store_config()
                ) as self.metrics,
            ):
                loaded = await load_tickets(outbox, self.state_dir / LEGACY_TICKETS)
                pipeline = Pipeline(self.config, outbox, loaded, probe=self.probe)
                self.command_verifier = self.verifier()
                inbound = Inbound(
                    pipeline.acknowledge,
                    commands=self.commands(pipeline),
                    verifier=self.command_verifier,
                )
                uplink = MqttUplink(
                    self.config.site_file.uplink.mqtt,
                    site.id,
                    outbox,
                    inbound.handle,
                    inbound_queue=self.config.site_file.limits.mqtt_inbound_queue,
                )
                uplink.health_every = self.config.site_file.uplink.health_every
                uplink.beside = OffsiteCommands.SLOW  # reports: never ahead of acks
                self.reconfigure = Reconfigure(
                    self.config, outbox, uplink.connected, self.request_reload
                )
                inbound.commands.update(self.reconfigure.commands())
                self.sink = self._influx_sink(outbox)
                self.selfstats = SelfStats(
                    outbox=outbox,
                    mqtt_connected=lambda: uplink.stats.connected,
                    sink=self.sink.stats if self.sink is not None else None,
                )
                async with SiteServices(self.config, pipeline, self.metrics) as self.services:
                    await self._run_tasks(pipeline, uplink, stop)
        finally:
            self.metrics = None
            await self.drivers.close()
        log.info("agent stopped site=%s", site.id)

    def _store_config(self) -> StoreConfig:
        return StoreConfig(recent_index_bytes=self.config.site_file.limits.metrics_recent_bytes)

    def status_line(self) -> str:
        """One line on how the agent is doing (systemd's STATUS=)."""
        return self._status()

    def _describe(self, pipeline: Pipeline, uplink: MqttUplink) -> str:
        link = "connected" if uplink.stats.connected else "not connected"
        tickets = len(pipeline.open_tickets)
        return f"{len(self.config.devices)} devices, uplink {link}, {tickets} open tickets"

    def _influx_sink(self, outbox: Outbox) -> MetricsSink | None:
        metrics = self.config.site_file.metrics
        if metrics is None or metrics.influxdb is None:
            return None
        settings = InfluxSettings.from_config(metrics.influxdb)
        log.info("metrics to InfluxDB url=%s bucket=%s", settings.url, settings.bucket)
        return MetricsSink(settings, outbox, MetricSchema.from_config(self.config))

    async def _run_tasks(self, pipeline: Pipeline, uplink: MqttUplink, stop: asyncio.Event) -> None:
        schedules = {s.device_id: s for s in self.schedules()}
        sources: list[PushSource] = self._sources
        try:
            for source in self.drivers.push_sources():
                await source.start()
                sources.append(source)
            await self._supervise(pipeline, uplink, schedules, sources, stop)
        finally:
            for source in sources:
                await source.close()
            sources.clear()

    async def _supervise(
        self,
        pipeline: Pipeline,
        uplink: MqttUplink,
        schedules: dict[str, DeviceSchedule],
        sources: list[PushSource],
        stop: asyncio.Event,
    ) -> None:
        site = self.config.site_file.site
        run = self.supervisor.run
        uplink.degraded = self.supervisor.degraded
        async with asyncio.TaskGroup() as group:
            background = [
                group.create_task(run("uplink", uplink.run), name="uplink"),
                group.create_task(
                    run("pipeline", lambda: self._consume(pipeline)), name="pipeline"
                ),
                group.create_task(
                    run("ticker", lambda: self._tick(pipeline, uplink)), name="ticker"
                ),
                group.create_task(run("health", self._health), name="health"),
            ]
            if self.reconfigure is not None:  # a new site file under way: finish it
                background.append(
                    group.create_task(run("config", self.reconfigure.watch), name="config")
                )
            pollers = group.create_task(self._run_pollers(schedules), name="pollers")
            if self.sink is not None:
                background.append(
                    group.create_task(run("influxdb", self.sink.run), name="influxdb")
                )
            if self.services is not None:  # status page, proactive maintenance
                background += [
                    group.create_task(run(name, job), name=name)
                    for name, job in self.services.tasks()
                ]
            for source in sources:  # traps: readings now, and a poll at once
                background.append(
                    group.create_task(
                        run(source.name, functools.partial(self._push, source, schedules)),
                        name=source.name,
                    )
                )
            self._status = lambda: self._describe(pipeline, uplink)
            self.started.set()
            await _first_of(stop, self._reload)
            log.info(
                "agent %s site=%s", "reloading" if self.reload_requested else "stopping", site.id
            )
            await stop_task(pollers)
            # Decide what the last poll results imply before delivery stops.
            while not self.results.empty():
                await pipeline.handle(self.results.get_nowait())
            await self.write_snapshot(pipeline, uplink)
            uplink.request_stop()
            await stop_tasks(*background)

    async def _run_pollers(self, schedules: dict[str, DeviceSchedule]) -> None:
        """Every device's schedule, each a part of its own (``poll:<device>``)."""
        async with asyncio.TaskGroup() as group:
            for device_id, schedule in schedules.items():
                part = self.supervisor.run(f"poll:{device_id}", schedule.run)
                group.create_task(part, name=f"poll:{device_id}")

    async def _push(self, source: PushSource, schedules: dict[str, DeviceSchedule]) -> None:
        await source.run(self.results, lambda device: schedules[device].poll_now())


async def _first_of(*events: asyncio.Event) -> None:
    """Until one of ``events`` is set."""
    waits = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


def _fatal(exc: BaseException) -> bool:
    """What stops the agent instead of restarting a part: a broken configuration, or
    a ticket store or outbox that cannot be written (a full outbox is waited out)."""
    if isinstance(exc, OutboxFullError):
        return False
    return isinstance(exc, ConfigError | TicketStoreError | OutboxError)
