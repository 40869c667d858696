"""The agent: pollers -> rules -> tickets -> outbox -> MQTT, in one TaskGroup."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from drivers.snmp import SnmpClient
from drivers.snmp.traps import TrapReceiver
from gateway.config.load import LoadedConfig
from gateway.config.rules import CheckRule, UnreachableRule
from gateway.correlate import (
    GATEWAY,
    GATEWAY_KIND,
    MAINTENANCE_COMMAND_SCHEMA,
    SITE,
    Correlator,
    LinkCheck,
    Probe,
    handle_maintenance_command,
)
from gateway.metrics import InfluxSettings, MetricSchema, MetricsSink, SelfStats
from gateway.metrics.store import MetricStore
from gateway.metrics.store_history import METRICS_NAME
from gateway.model import Condition, Reading, TicketEvent
from gateway.outbox import MessageClass, Outbox, OutboxMessage
from gateway.poller import DeviceSchedule, PollResult, run_pollers
from gateway.poller.modbus_points import ModbusBuses, ModbusPointReader
from gateway.poller.snmp_points import SnmpPointReader
from gateway.rules import RuleEngine
from gateway.services import SiteServices
from gateway.tickets import ServiceClocks, TicketBook, event_payload
from gateway.tickets.book import CONFIRM_POLLS, Decision
from gateway.tickets.store import TicketStore
from gateway.tickets.wire import encode
from gateway.traps import TrapIntake, receiver_config
from gateway.uplink import MqttUplink, topic_prefix
from gateway.uplink.inbound import Command, Inbound
from gateway.views import snapshot

log = logging.getLogger("lvgw.agent")

MAX_POLLS_IN_FLIGHT = 128
TICK_SECONDS = 1.0
SNAPSHOT_EVERY = 5  # ticks
HEALTH_EVERY = 30.0  # seconds between two readings of the gateway's own health


class Pipeline:
    """Decides conditions and ticket events, and hands them to the outbox durably."""

    def __init__(
        self,
        config: LoadedConfig,
        outbox: Outbox,
        store: TicketStore,
        probe: Probe | None = None,
        link: LinkCheck | None = None,
    ) -> None:
        """``probe`` (re-poll a device now) turns on correlation: dependencies, storms,
        maintenance windows. Without it conditions go straight to the ticket book."""
        site = config.site_file.site
        self.config = config
        self.outbox = outbox
        self.store = store
        self.rules = RuleEngine(config)
        self.clocks = ServiceClocks.for_site(site.zone, site.clocks)
        self.book = TicketBook(
            site.id,
            self.clocks,
            {**{d.id: d.kind.value for d in config.devices}, GATEWAY: GATEWAY_KIND, SITE: SITE},
            contract=site.contract.type,
            loaded=store.load(),
            confirm_wait=self.confirm_wait,
        )
        self.correlator = (
            Correlator(config, probe, link=link, open_keys=list(self.book.open))
            if probe is not None
            else None
        )
        self.tickets_topic = topic_prefix(site.id) + "tickets"
        self.devices = {d.id: d for d in config.devices}
        self.reachable: dict[str, bool] = {}
        self.views: dict[str, snapshot.DeviceView] = {}
        self._lock = asyncio.Lock()  # one decision at a time: book and store stay in step
        # Told of every batch of ticket events once it is durable (the ticket history).
        self.on_events: list[Callable[[Sequence[TicketEvent]], Awaitable[None]]] = []

    async def replay_journal(self) -> None:
        """Events decided before a crash but maybe not yet in the outbox."""
        journal = self.store.journal()
        if journal:
            await self.outbox.put_many(
                OutboxMessage(topic, payload, 1, False, MessageClass.TICKET)
                for _, topic, payload in journal
            )
            await self.store.journal_done([event_id for event_id, _, _ in journal])
            log.info("replayed %d ticket events decided before the last stop", len(journal))

    async def handle(self, result: PollResult) -> Decision:
        self.views.setdefault(result.device, snapshot.DeviceView()).update(result)
        if result.source == "poll":
            self._log_reachability(result)
        async with self._lock:
            decision = Decision()
            await self._decide(self.rules.evaluate(result), decision)
            # Only for tickets loaded at start-up: else it reads every device's rules.
            if self.book.awaits_confirmation(result.device):
                active = {c.key for c in self.rules.active() if c.device == result.device}
                decision.extend(self.book.after_poll(result.device, result.ts, active))
            await self._commit(decision)
        return decision

    async def _decide(self, conditions: Sequence[Condition], decision: Decision) -> None:
        """Rule conditions through correlation (when on) into the ticket book."""
        for condition in conditions:
            self._log_condition(condition)
            passed = [condition]
            if self.correlator is not None:
                passed = await self.correlator.process(condition)
            for correlated in passed:
                if correlated is not condition:
                    self._log_condition(correlated)
                decision.extend(self.book.on_condition(correlated))

    async def apply(self, conditions: Sequence[Condition]) -> Decision:
        """Conditions decided outside the rule engine (scheduled checks, forecasts)."""
        async with self._lock:
            decision = Decision()
            for condition in conditions:
                self._log_condition(condition)
                decision.extend(self.book.on_condition(condition))
            await self._commit(decision)
        return decision

    async def tick(self, now: datetime) -> Decision:
        """Time passes without readings: durations, staleness, flapping, reminders."""
        async with self._lock:
            decision = Decision()
            await self._decide(self.rules.tick(now), decision)
            if self.correlator is not None:
                for condition in await self.correlator.tick(now):
                    self._log_condition(condition)
                    decision.extend(self.book.on_condition(condition))
            decision.extend(self.book.tick(now))
            await self._commit(decision)
        return decision

    async def acknowledge(self, body: dict[str, Any]) -> dict[str, Any]:
        async with self._lock:
            ticket = self.book.find(body["ticket_id"])
            if ticket is None:
                return {"ok": False, "error": f"no open ticket {body['ticket_id']!r}"}
            if body["action"] == "ack":
                self.book.acknowledge(ticket.ticket_id, body["by"], datetime.now(UTC))
                await self._commit(Decision(changed={ticket.ticket_id: ticket}))
                log.info("ticket acknowledged ticket=%s by=%s", ticket.ticket_id, body["by"])
            else:
                log.info("ticket comment ticket=%s by=%s", ticket.ticket_id, body["by"])
            return {"ok": True, "ticket_id": ticket.ticket_id, "acked_by": ticket.acked_by}

    async def _commit(self, decision: Decision) -> None:
        if not (decision.events or decision.changed or decision.closed):
            return
        site = self.config.site_file.site
        messages = [
            (
                e.event_id,
                self.tickets_topic,
                encode(event_payload(e, site, self.devices.get(e.device_id))),
            )
            for e in decision.events
        ]
        # Decided state and its events first (durable), then the outbox, then the journal.
        await self.store.save(list(decision.changed.values()), decision.closed, messages)
        if messages:
            await self.outbox.put_many(
                OutboxMessage(topic, payload, 1, False, MessageClass.TICKET)
                for _, topic, payload in messages
            )
            await self.store.journal_done([event_id for event_id, _, _ in messages])
        for listener in self.on_events:
            await listener(decision.events)
        for event in decision.events:
            log.info(
                "ticket %s ticket=%s seq=%d severity=%d device=%s fault=%s",
                event.event.value, event.ticket_id, event.seq, event.severity,
                event.device_id, event.fault_code,
            )  # fmt: skip

    def confirm_wait(self, key: tuple[str, str, str]) -> tuple[int, float]:
        """How long the rules may take to raise a loaded ticket's fault again after a
        start (polls, seconds): the rule's ``raise_after`` or ``for``."""
        device = self.devices.get(key[0])
        rule = None
        if device is not None:
            rules = self.config.profile_of(device).rules
            rule = next((r for r in rules if r.code == key[1]), None)
        if isinstance(rule, UnreachableRule):
            return max(CONFIRM_POLLS, rule.raise_after), 0.0
        if isinstance(rule, CheckRule) and device is not None:
            # ``for`` runs from the first evaluation that holds; two polls more for a
            # reading that needs a previous value (a rate) before it is known.
            return CONFIRM_POLLS, (rule.for_ or 0.0) + 2 * device.interval
        return CONFIRM_POLLS, 0.0

    def _log_reachability(self, result: PollResult) -> None:
        before = self.reachable.get(result.device)
        self.reachable[result.device] = result.reachable
        if before is None or before == result.reachable:
            if not result.reachable:
                log.debug("device still down device=%s error=%r", result.device, result.error)
            return
        if result.reachable:
            log.info("device recovered device=%s", result.device)
        else:
            log.warning("device down device=%s error=%r", result.device, result.error)

    @staticmethod
    def _log_condition(condition: Condition) -> None:
        state = "raised" if condition.active else "cleared"
        log.info(
            "condition %s device=%s fault=%s level=%d instance=%r",
            state, condition.device, condition.code, condition.level, condition.instance,
        )  # fmt: skip


class Agent:
    def __init__(self, config: LoadedConfig, snmp: SnmpClient) -> None:
        self.config = config
        self.snmp = snmp
        self.modbus = ModbusBuses()
        self.results: asyncio.Queue[PollResult] = asyncio.Queue(maxsize=10_000)
        self._probes: dict[str, SnmpPointReader | ModbusPointReader] = {}
        self.metrics: MetricStore | None = None
        self.sink: MetricsSink | None = None
        self.selfstats = SelfStats()
        self.state_dir = config.site_file.agent.state_dir
        self.services: SiteServices | None = None

    def reader(self, device_id: str) -> SnmpPointReader | ModbusPointReader:
        device = self.config.device(device_id)
        profile = self.config.profile_of(device)
        if profile.protocol == "snmp":
            return SnmpPointReader(device, profile, self.snmp)
        return ModbusPointReader(device, profile, self.modbus.for_device(device))

    async def probe(self, device_id: str) -> bool:
        """Poll a device now, out of its schedule, with a reader of its own (the
        scheduled one keeps its down flag and counter rates undisturbed)."""
        reader = self._probes.get(device_id)
        if reader is None:
            reader = self._probes[device_id] = self.reader(device_id)
        return (await reader.poll()).reachable

    def schedules(self) -> Sequence[DeviceSchedule]:
        limit = asyncio.Semaphore(MAX_POLLS_IN_FLIGHT)
        schedules = []
        for device in self.config.devices:
            reader = self.reader(device.id)
            schedules.append(
                DeviceSchedule(device.id, reader, device.interval, self.results, limit=limit)
            )
        return schedules

    @staticmethod
    def commands(pipeline: Pipeline) -> dict[str, tuple[dict[str, Any], Command]]:
        """Commands the service center may send on cmd/<name>."""
        correlator = pipeline.correlator
        if correlator is None:
            return {}

        async def maintenance(body: dict[str, Any]) -> dict[str, Any]:
            return handle_maintenance_command(correlator.store, body)

        return {"maintenance": (MAINTENANCE_COMMAND_SCHEMA, maintenance)}

    async def _consume(self, pipeline: Pipeline) -> None:
        while True:
            result = await self.results.get()
            await pipeline.handle(result)
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
        link = {
            "connected": uplink.stats.connected,
            "protocol": uplink.stats.protocol,
            "delivered": uplink.stats.delivered,
            "refused": uplink.stats.refused,
            "last_refusal": uplink.stats.last_refusal or None,
            "backlog": {str(c): b.messages for c, b in stats.backlog.items() if b.messages},
        }
        data = snapshot.build(self.config, pipeline.views, pipeline.book, pipeline.clocks, link)
        await asyncio.to_thread(snapshot.write, self.state_dir, data)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; then stop polling and say "offline"."""
        site = self.config.site_file.site
        log.info("agent starting site=%s devices=%d", site.id, len(self.config.devices))
        self.state_dir.mkdir(parents=True, exist_ok=True)
        store = TicketStore(self.state_dir / "tickets.db")
        try:
            async with (
                Outbox(self.state_dir / "outbox.db") as outbox,
                MetricStore(self.state_dir / METRICS_NAME) as self.metrics,
            ):
                pipeline = Pipeline(self.config, outbox, store, probe=self.probe)
                await pipeline.replay_journal()
                inbound = Inbound(pipeline.acknowledge, commands=self.commands(pipeline))
                uplink = MqttUplink(
                    self.config.site_file.uplink.mqtt, site.id, outbox, inbound.handle
                )
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
            store.close()
            await self.modbus.close()
        log.info("agent stopped site=%s", site.id)

    def _influx_sink(self, outbox: Outbox) -> MetricsSink | None:
        metrics = self.config.site_file.metrics
        if metrics is None or metrics.influxdb is None:
            return None
        settings = InfluxSettings.from_config(metrics.influxdb)
        log.info("metrics to InfluxDB url=%s bucket=%s", settings.url, settings.bucket)
        return MetricsSink(settings, outbox, MetricSchema.from_config(self.config))

    async def _run_tasks(self, pipeline: Pipeline, uplink: MqttUplink, stop: asyncio.Event) -> None:
        schedules = {s.device_id: s for s in self.schedules()}
        traps = self.config.site_file.traps
        receiver = TrapReceiver(receiver_config(traps)) if traps is not None else None
        if receiver is not None:
            await receiver.start()
            log.info("trap receiver listening on %s", traps.listen if traps else "")
        try:
            await self._supervise(pipeline, uplink, schedules, receiver, stop)
        finally:
            if receiver is not None:
                await receiver.close()

    async def _supervise(
        self,
        pipeline: Pipeline,
        uplink: MqttUplink,
        schedules: dict[str, DeviceSchedule],
        receiver: TrapReceiver | None,
        stop: asyncio.Event,
    ) -> None:
        site = self.config.site_file.site
        async with asyncio.TaskGroup() as group:
            uplink_task = group.create_task(uplink.run(), name="uplink")
            pollers = group.create_task(run_pollers(list(schedules.values())), name="pollers")
            consumer = group.create_task(self._consume(pipeline), name="pipeline")
            ticker = group.create_task(self._tick(pipeline, uplink), name="ticker")
            health = group.create_task(self._health(), name="health")
            background = [consumer, ticker, uplink_task, health]
            if self.sink is not None:
                background.append(group.create_task(self.sink.run(), name="influxdb"))
            if self.services is not None:  # status page, proactive maintenance
                background += [group.create_task(job, name=n) for n, job in self.services.tasks()]
            if receiver is not None:
                intake = TrapIntake(
                    self.config, self.results, lambda device: schedules[device].poll_now()
                )
                background.append(group.create_task(intake.run(receiver), name="traps"))
            await stop.wait()
            log.info("agent stopping site=%s", site.id)
            pollers.cancel()
            with suppress(asyncio.CancelledError):
                await pollers
            # Decide what the last poll results imply before delivery stops.
            while not self.results.empty():
                await pipeline.handle(self.results.get_nowait())
            await self.write_snapshot(pipeline, uplink)
            uplink.request_stop()
            for task in background:
                task.cancel()
