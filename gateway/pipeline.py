"""The decision core: poll results -> rules -> correlation -> ticket book -> outbox,
one decision at a time.

    pipeline = Pipeline(config, outbox, await load_tickets(outbox), probe=agent.probe)
    unsubscribe = pipeline.subscribe(history.record)
    await pipeline.handle(result)      # a poll result or trap readings
    await pipeline.handle_batch(results)  # several, decided in order, committed once
    await pipeline.tick(now)           # time passes: durations, staleness, reminders
    await pipeline.apply(conditions)   # conditions decided elsewhere (proactive jobs)
    snapshot = pipeline.snapshot(uplink)

A decision's ticket state (the outbox's records) and its events (ticket messages)
are committed in one outbox transaction: one fsync, and never one without the other.
Listeners given to `subscribe` are told of every batch of ticket events once it is
durable, in the order subscribed; they run inside the decision, so a slow listener
slows ticketing and one that raises fails the call that decided the batch: a listener
catches its own errors.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gateway import snapshot
from gateway.config.load import LoadedConfig
from gateway.config.rules import CheckRule, PollCountRule
from gateway.correlate import GATEWAY, GATEWAY_KIND, SITE, Correlator, LinkCheck, Probe
from gateway.correlate.maintenance import MaintenanceStore
from gateway.model import Condition, TicketEvent
from gateway.outbox import MessageClass, Outbox, OutboxMessage
from gateway.outbox.errors import OutboxFullError
from gateway.poller import PollResult
from gateway.rules import RuleEngine
from gateway.tickets import ServiceClocks, TicketBook, event_payload
from gateway.tickets.acks import apply_ack
from gateway.tickets.book import CONFIRM_POLLS, Decision, Key
from gateway.tickets.state import OpenTicket
from gateway.tickets.store import (
    RECORD_PREFIX,
    TicketStore,
    ticket_records,
    tickets_from_records,
)
from gateway.tickets.terms import Coverage
from gateway.tickets.wire import encode
from gateway.uplink import topic_prefix

log = logging.getLogger("lvgw.agent")

# Retrying a decision's commit while the outbox is full: first wait, doubling to the cap.
FULL_RETRY_FIRST = 0.5
FULL_RETRY_MAX = 10.0

# Told of each batch of ticket events once it is durable.
EventListener = Callable[[Sequence[TicketEvent]], Awaitable[None]]
Unsubscribe = Callable[[], None]


class Pipeline:
    """Decides conditions and ticket events, and hands them to the outbox durably."""

    def __init__(
        self,
        config: LoadedConfig,
        outbox: Outbox,
        loaded: Sequence[OpenTicket],
        probe: Probe | None = None,
        link: LinkCheck | None = None,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """``loaded``: the open tickets on file at start (`load_tickets`).
        ``probe`` (re-poll a device now) turns on correlation: dependencies, storms,
        maintenance windows. Without it conditions go straight to the ticket book.
        ``now`` is the ticket book's clock (a test may control it)."""
        site = config.site_file.site
        self._config = config
        self._outbox = outbox
        self._rules = RuleEngine(config)
        self._clocks = ServiceClocks.for_site(site.zone, site.clocks, site.local_zone)
        self._book = TicketBook(
            site.id,
            self._clocks,
            {**{d.id: d.kind.value for d in config.devices}, GATEWAY: GATEWAY_KIND, SITE: SITE},
            coverage=Coverage.for_config(config),
            now=now,
            loaded=loaded,
            confirm_wait=self.confirm_wait,
        )
        self._correlator = (
            Correlator(config, probe, link=link, open_keys=list(self._book.open))
            if probe is not None
            else None
        )
        self._tickets_topic = topic_prefix(site.id) + "tickets"
        self._devices = {d.id: d for d in config.devices}
        self._reachable: dict[str, bool] = {}
        self._views: dict[str, snapshot.DeviceView] = {}
        self._statuses: snapshot.StatusCache = {}  # device entries of the last snapshot
        self._lock = asyncio.Lock()  # one decision at a time: book and store stay in step
        self._listeners: list[EventListener] = []

    # -- what others may see and hold -------------------------------------------------

    @property
    def outbox(self) -> Outbox:
        return self._outbox

    @property
    def open_tickets(self) -> Mapping[Key, OpenTicket]:
        """The open tickets by (device, fault, instance); a read-only live view."""
        return MappingProxyType(self._book.open)

    def find(self, ticket_id: str) -> OpenTicket | None:
        """The open ticket with this id, if any."""
        return self._book.find(ticket_id)

    @property
    def maintenance(self) -> MaintenanceStore | None:
        """The maintenance windows (None without correlation)."""
        return None if self._correlator is None else self._correlator.store

    def subscribe(self, listener: EventListener) -> Unsubscribe:
        """Tell ``listener`` of every batch of durable ticket events from now on; the
        function returned stops that (calling it twice does no harm)."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def snapshot(
        self, uplink: snapshot.UplinkStatus, now: datetime | None = None
    ) -> snapshot.StatusSnapshot:
        """The status snapshot of the site as the pipeline knows it now."""
        return snapshot.build(
            self._config, self._views, self._book.open.values(), uplink, now, self._statuses
        )

    def health(self) -> dict[str, Any]:
        """The site's health in a few figures (the retained ``health`` topic)."""
        return snapshot.build_health(self._config, self._views, self._book.open.values())

    # -- decisions ------------------------------------------------------------------

    async def handle(self, result: PollResult) -> Decision:
        return await self.handle_batch((result,))

    async def handle_batch(self, results: Sequence[PollResult]) -> Decision:
        """Decide poll results (or trap batches) in order and commit them together:
        under load, many decisions share one transaction and one fsync."""
        for result in results:
            view = self._views.get(result.device)
            if view is None:
                keep = snapshot.meant_columns(self._config, result.device)
                view = self._views[result.device] = snapshot.DeviceView(keep)
            view.update(result)
            if result.source == "poll":
                self._log_reachability(result)
        async with self._lock:
            decision = Decision()
            for result in results:
                await self._decide(self._rules.evaluate(result), decision)
                # Only for tickets loaded at start-up.
                if self._book.awaits_confirmation(result.device):
                    active = {c.key for c in self._rules.active(result.device)}
                    decision.extend(self._book.after_poll(result.device, result.ts, active))
            await self._commit(decision)
        return decision

    async def _decide(self, conditions: Sequence[Condition], decision: Decision) -> None:
        """Rule conditions through correlation (when on) into the ticket book."""
        for condition in conditions:
            self._log_condition(condition)
            passed = [condition]
            if self._correlator is not None:
                passed = await self._correlator.process(condition)
            for correlated in passed:
                if correlated is not condition:
                    self._log_condition(correlated)
                decision.extend(self._book.on_condition(correlated))

    async def apply(self, conditions: Sequence[Condition]) -> Decision:
        """Conditions decided outside the rule engine (scheduled checks, forecasts)."""
        async with self._lock:
            decision = Decision()
            for condition in conditions:
                self._log_condition(condition)
                decision.extend(self._book.on_condition(condition))
            await self._commit(decision)
        return decision

    async def tick(self, now: datetime) -> Decision:
        """Time passes without readings: durations, staleness, flapping, reminders."""
        async with self._lock:
            decision = Decision()
            await self._decide(self._rules.tick(now), decision)
            if self._correlator is not None:
                for condition in await self._correlator.tick(now):
                    self._log_condition(condition)
                    decision.extend(self._book.on_condition(condition))
            decision.extend(self._book.tick(now))
            await self._commit(decision)
        return decision

    async def acknowledge(self, body: dict[str, Any]) -> dict[str, Any]:
        """A message on ``acks``: acknowledgement, comment, arrival or departure."""
        async with self._lock:
            reply, changed = apply_ack(self._book, body, self._book.now())
            if changed is not None:
                await self._commit(Decision(changed={changed.ticket_id: changed}))
            return reply

    async def _commit(self, decision: Decision) -> None:
        if not (decision.events or decision.changed or decision.closed):
            return
        site = self._config.site_file.site
        messages = [
            OutboxMessage(
                self._tickets_topic,
                encode(event_payload(e, site, self._devices.get(e.device_id))),
                1,
                False,
                MessageClass.TICKET,
            )
            for e in decision.events
        ]
        records = ticket_records(decision.changed.values(), decision.closed)
        # The ticket state and its events in one transaction: one fsync, both or neither.
        await self._store(messages, records)
        for listener in tuple(self._listeners):  # a listener may unsubscribe meanwhile
            await listener(decision.events)
        for event in decision.events:
            log.info(
                "ticket %s ticket=%s seq=%d severity=%d device=%s fault=%s",
                event.event.value, event.ticket_id, event.seq, event.severity,
                event.device_id, event.fault_code,
            )  # fmt: skip

    async def _store(self, messages: list[OutboxMessage], records: dict[str, str | None]) -> None:
        """Put the decision in the outbox; a full outbox is waited out (the decision is
        made: its events must not be lost), every other failure raises."""
        delay = FULL_RETRY_FIRST
        while True:
            try:
                await self._outbox.put_many(messages, records=records)
                return
            except OutboxFullError as exc:
                if delay == FULL_RETRY_FIRST:
                    log.error("outbox full, ticket events wait until there is room: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, FULL_RETRY_MAX)

    def confirm_wait(self, key: Key) -> tuple[int, float]:
        """How long the rules may take to raise a loaded ticket's fault again after a
        start (polls, seconds): the rule's ``raise_after`` or ``for``."""
        device = self._devices.get(key[0])
        rule = None
        if device is not None:
            rules = self._config.profile_of(device).rules
            rule = next((r for r in rules if r.code == key[1]), None)
        if isinstance(rule, PollCountRule):
            return max(CONFIRM_POLLS, rule.raise_after), 0.0
        if isinstance(rule, CheckRule) and device is not None:
            # ``for`` runs from the first evaluation that holds; two polls more for a
            # reading that needs a previous value (a rate) before it is known.
            return CONFIRM_POLLS, (rule.for_ or 0.0) + 2 * device.interval
        return CONFIRM_POLLS, 0.0

    def _log_reachability(self, result: PollResult) -> None:
        before = self._reachable.get(result.device)
        self._reachable[result.device] = result.reachable
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


async def load_tickets(outbox: Outbox, legacy: Path | None = None) -> list[OpenTicket]:
    """The open tickets on file. A ticket store of an earlier lvgw (``legacy``, the
    state dir's tickets.db) is moved into the outbox first, in one transaction: its
    tickets, and the events its journal still held (decided, maybe not yet in the
    outbox: possibly delivered twice, never lost); then it is renamed
    ``tickets.db.migrated``. Raises `TicketStoreError` if it cannot be read."""
    if legacy is not None and await asyncio.to_thread(legacy.exists):
        await _migrate(outbox, legacy)
    return tickets_from_records(await outbox.records(RECORD_PREFIX))


async def _migrate(outbox: Outbox, legacy: Path) -> None:
    marker = MIGRATED_PREFIX + legacy.name
    if not await outbox.records(marker):
        async with TicketStore(legacy) as store:
            tickets, journal = await store.load(), await store.journal()
        records = ticket_records(tickets, ())
        records[marker] = datetime.now(UTC).isoformat()
        await outbox.put_many(
            (OutboxMessage(topic, payload, 1, False, MessageClass.TICKET)
             for _, topic, payload in journal),
            records=records,
        )  # fmt: skip
        log.info(
            "moved %d open tickets and %d journal events from %s into the outbox",
            len(tickets), len(journal), legacy,
        )  # fmt: skip
    await asyncio.to_thread(_set_aside, legacy)


def _set_aside(legacy: Path) -> None:
    """tickets.db (and a log SQLite left beside it) -> tickets.db.migrated."""
    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{legacy}{suffix}")
        if path.exists():
            path.replace(Path(f"{legacy}.migrated{suffix}"))


MIGRATED_PREFIX = "migrated/"  # records naming the files already moved into the outbox
