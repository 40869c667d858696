"""The agent: pollers -> rules -> tickets -> delivery queue -> MQTT, in one TaskGroup."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import suppress

from drivers.snmp import SnmpClient
from gateway.config.load import LoadedConfig
from gateway.model import Condition, TicketEvent
from gateway.poller import DeviceSchedule, PollResult, run_pollers
from gateway.poller.modbus_points import ModbusBuses
from gateway.poller.snmp_points import SnmpPointReader
from gateway.rules import RuleEngine
from gateway.tickets import ServiceClocks, TicketBook, event_payload
from gateway.tickets.wire import encode
from gateway.uplink import DeliveryQueue, MqttUplink, topic_prefix

log = logging.getLogger("lvgw.agent")


class Pipeline:
    """Consumes poll results in arrival order; decides conditions and ticket events."""

    def __init__(self, config: LoadedConfig, queue: DeliveryQueue) -> None:
        site = config.site_file.site
        self.config = config
        self.queue = queue
        self.rules = RuleEngine(config)
        self.book = TicketBook(
            site.id,
            ServiceClocks.for_site(site.zone, site.clocks),
            {d.id: d.kind.value for d in config.devices},
        )
        self.tickets_topic = topic_prefix(site.id) + "tickets"
        self.reachable: dict[str, bool] = {}

    async def handle(self, result: PollResult) -> list[TicketEvent]:
        self._log_reachability(result)
        events: list[TicketEvent] = []
        for condition in self.rules.evaluate(result):
            self._log_condition(condition)
            events.extend(self.book.on_condition(condition))
        for event in events:
            await self.publish(event)
        return events

    async def publish(self, event: TicketEvent) -> None:
        device = self.config.device(event.device_id)
        payload = event_payload(event, self.config.site_file.site, device)
        await self.queue.put(self.tickets_topic, encode(payload), qos=1)
        log.info(
            "ticket %s ticket=%s seq=%d severity=%d device=%s fault=%s",
            event.event.value, event.ticket_id, event.seq, event.severity,
            event.device_id, event.fault_code,
        )  # fmt: skip

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


MAX_POLLS_IN_FLIGHT = 128


class Agent:
    def __init__(self, config: LoadedConfig, snmp: SnmpClient, queue: DeliveryQueue) -> None:
        self.config = config
        self.snmp = snmp
        self.modbus = ModbusBuses()
        self.queue = queue
        self.results: asyncio.Queue[PollResult] = asyncio.Queue(maxsize=10_000)
        self.pipeline = Pipeline(config, queue)
        self.uplink = MqttUplink(config.site_file.uplink.mqtt, config.site_file.site.id, queue)

    def schedules(self) -> Sequence[DeviceSchedule]:
        schedules = []
        for device in self.config.devices:
            profile = self.config.profile_of(device)
            if profile.protocol != "snmp":
                log.warning(
                    "device %s: %s polling is not available yet", device.id, profile.protocol
                )
                continue
            reader = SnmpPointReader(device, profile, self.snmp)
            schedules.append(DeviceSchedule(device.id, reader, device.interval, self.results))
        return schedules

    async def _consume(self) -> None:
        while True:
            result = await self.results.get()
            await self.pipeline.handle(result)

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; then stop polling and say "offline"."""
        site = self.config.site_file.site
        log.info("agent starting site=%s devices=%d", site.id, len(self.config.devices))
        async with asyncio.TaskGroup() as group:
            uplink = group.create_task(self.uplink.run(), name="uplink")
            pollers = group.create_task(run_pollers(self.schedules()), name="pollers")
            consumer = group.create_task(self._consume(), name="pipeline")
            await stop.wait()
            log.info("agent stopping site=%s", site.id)
            pollers.cancel()
            with suppress(asyncio.CancelledError):
                await pollers
            # Decide what the last poll results imply before delivery stops.
            while not self.results.empty():
                await self.pipeline.handle(self.results.get_nowait())
            consumer.cancel()
            uplink.cancel()
        await self.modbus.close()
        log.info("agent stopped site=%s", site.id)
