"""Ingest: ticket events and site statuses from the broker into the ledger.

Tickets come through a shared subscription (``$share/<group>/lvgw/v1/+/tickets``), so
several centers may share the load, and so do the gateways' replies (``acks-reply``,
``cmd-reply/<name>``, center/replies.py); statuses are retained messages, which a shared
subscription does not deliver, so each center takes them all (``lvgw/v1/+/status``
and ``lvgw/v1/+/health``, each site's last kept; recording one twice is harmless).
Each message is acknowledged only after the ledger committed it.

Messages are taken in batches: what has arrived by the time the ledger is free goes
into one transaction (up to `MAX_BATCH`), then each is acknowledged, in the order they
came (MQTT v5, 4.6). When the ledger is unavailable (a PostgreSQL server down or out of
reach, a full disk) the batch is kept and tried again with a capped backoff, nothing
is acknowledged meanwhile (the broker stops sending once its in-flight window is full,
and keeps the rest), and the log says so once, then says when the ledger is back. A
worker stopped meanwhile leaves the messages unacknowledged: the broker sends them
again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import aiomqtt

from center import broker
from center.config import CenterFile
from center.events import MAX_EVENT_BYTES, Rejection, TicketEvent, parse_ticket_event, site_of
from center.ledger import LedgerStore, Route
from center.replies import parse_reply, topic_kind
from drivers.backoff import Backoff

MAX_BATCH = 500  # messages in one ledger transaction

log = logging.getLogger("lvgw-center.ingest")


def ticket_filter(group: str) -> str:
    return f"$share/{group}/lvgw/v1/+/tickets"


def reply_filters(group: str) -> tuple[str, ...]:
    """The gateways' replies: each kept once in the ledger, so shared like tickets."""
    return (f"$share/{group}/lvgw/v1/+/acks-reply", f"$share/{group}/lvgw/v1/+/cmd-reply/+")


STATUS_FILTER = "lvgw/v1/+/status"
HEALTH_FILTER = "lvgw/v1/+/health"  # retained too: every center takes them all


class Ingest:
    def __init__(
        self,
        center: CenterFile,
        store: LedgerStore,
        routes: Sequence[Route],
        applied: Callable[[], None] = lambda: None,
    ) -> None:
        self.center = center
        self.store = store
        self.routes = tuple(routes)
        self.applied = applied  # called after an event was applied (adapters wake up)
        self.connected = asyncio.Event()
        self.counts: dict[str, int] = {}

    async def run(self) -> None:
        """Take messages until cancelled, reconnecting with a capped backoff."""
        backoff = Backoff(0.5, 30.0)
        while True:
            try:
                await self._session(backoff)
            except aiomqtt.MqttError as exc:
                log.warning("broker %s:%s: %s", self.center.broker.host,
                            self.center.broker.port, exc)  # fmt: skip
            finally:
                self.connected.clear()
            await asyncio.sleep(backoff.next_delay())

    async def _session(self, backoff: Backoff) -> None:
        async with broker.client(self.center.broker) as mqtt:
            await mqtt.subscribe(ticket_filter(self.center.broker.group), qos=1)
            await mqtt.subscribe(STATUS_FILTER, qos=1)
            await mqtt.subscribe(HEALTH_FILTER, qos=1)
            for replies in reply_filters(self.center.broker.group):
                await mqtt.subscribe(replies, qos=1)
            self.connected.set()
            backoff.reset()
            log.info("subscribed to %s", ticket_filter(self.center.broker.group))
            messages = mqtt.messages
            async for message in messages:
                batch = [message]
                while len(messages) and len(batch) < MAX_BATCH:
                    batch.append(await anext(messages))
                await self._durably(batch)
                for taken in batch:
                    broker.acknowledge(mqtt, taken)

    async def _durably(self, batch: list[aiomqtt.Message]) -> None:
        """Take ``batch`` into the ledger, waiting out a ledger that is unavailable."""
        trouble = Backoff(0.5, 10.0)
        while True:
            try:
                await self._take(batch)
            except LedgerFailedError as exc:
                if trouble.failures == 0:
                    log.error("%s: not acknowledging; %d message(s) wait at the broker"
                              " until it is back", exc, len(batch))  # fmt: skip
                await asyncio.sleep(trouble.next_delay())
                continue
            if trouble.failures:
                log.warning("ledger %s is back: taking messages again", self.store.where)
            return

    async def _take(self, batch: list[aiomqtt.Message]) -> None:
        items: list[TicketEvent | Rejection] = []
        statuses: list[tuple[str, dict[str, Any]]] = []
        replies: list[tuple[str, bytes]] = []
        healths: list[tuple[str, dict[str, Any]]] = []
        for message in batch:
            topic = message.topic.value
            payload = message.payload if isinstance(message.payload, bytes) else b""
            # Replies first: cmd-reply/status and cmd-reply/tickets end like the others.
            if topic_kind(topic) is not None:
                replies.append((topic, payload))
            elif topic.endswith("/tickets"):
                items.append(parse_ticket_event(topic, payload))
            elif topic.endswith("/status"):
                items.extend(_status(topic, payload, statuses))
            elif topic.endswith("/health"):
                items.extend(_status(topic, payload, healths, "health"))
        try:
            await self._store(items, statuses)
        except LedgerFailedError:
            raise
        except Exception:  # a message that trips a bug: taken one by one to find it
            for item in items:
                await self._one(item)
            for status in statuses:
                await self._one_status(*status)
        for topic, payload in replies:
            await self._one_reply(topic, payload)
        for site_id, document in healths:
            await self._one_health(site_id, document)

    async def _one_health(self, site_id: str, document: dict[str, Any]) -> None:
        try:
            await self.store.record_health(site_id, document, time.time())
        except Exception as exc:
            if self.store.is_unavailable(exc):
                raise LedgerFailedError(f"ledger {self.store.where}: {exc}") from exc
            log.exception("cannot record the health of site %s", site_id)

    async def _store(
        self, items: list[TicketEvent | Rejection], statuses: list[tuple[str, dict[str, Any]]]
    ) -> None:
        try:
            outcomes = (
                await self.store.ingest_many(items, time.time(), self.routes) if items else []
            )
            if statuses:
                await self.store.record_statuses(statuses, time.time())
        except Exception as exc:
            if self.store.is_unavailable(exc):
                raise LedgerFailedError(f"ledger {self.store.where}: {exc}") from exc
            raise
        for item, outcome in zip(items, outcomes, strict=True):
            self.counts[outcome] = self.counts.get(outcome, 0) + 1
            if isinstance(item, Rejection):
                log.warning("rejected a message on %s: %s", item.topic, item.reason)
        if "applied" in outcomes:
            self.applied()

    async def _one(self, item: TicketEvent | Rejection) -> None:
        try:
            await self._store([item], [])
        except LedgerFailedError:
            raise
        except Exception as exc:  # kept aside with the error, not retried forever
            topic = item.topic if isinstance(item, Rejection) else f"lvgw/v1/{item.site_id}/tickets"
            log.exception("cannot take a message on %s", topic)
            reason = f"could not be taken: {type(exc).__name__}: {exc}"
            event_id = item.event_id
            try:
                await self._store([Rejection(topic, item.payload[:MAX_EVENT_BYTES], reason,
                                             event_id)], [])  # fmt: skip
            except Exception as again:
                raise LedgerFailedError(f"ledger {self.store.where}: {again}") from again

    async def _one_status(self, site_id: str, status: dict[str, Any]) -> None:
        try:
            await self._store([], [(site_id, status)])
        except LedgerFailedError:
            raise
        except Exception:
            log.exception("cannot record the status of site %s", site_id)

    async def _one_reply(self, topic: str, payload: bytes) -> None:
        try:
            await self._reply(topic, payload)
        except Exception as exc:
            if self.store.is_unavailable(exc):
                raise LedgerFailedError(f"ledger {self.store.where}: {exc}") from exc
            log.exception("cannot take a message on %s", topic)
            reason = f"could not be taken: {type(exc).__name__}: {exc}"
            try:
                await self._store([Rejection(topic, payload[:MAX_EVENT_BYTES], reason)], [])
            except Exception as again:
                raise LedgerFailedError(f"ledger {self.store.where}: {again}") from again

    async def _reply(self, topic: str, payload: bytes) -> None:
        reply = parse_reply(topic, payload)
        if isinstance(reply, Rejection):
            log.warning("rejected a message on %s: %s", topic, reply.reason)
            await self.store.ingest(reply, time.time(), ())
            return
        if await self.store.record_reply(reply, time.time()) and not reply.ok:
            log.warning("site %s refused a message on %s (request %s): %s", reply.site_id,
                        reply.topic_kind, reply.request_id, reply.error)  # fmt: skip

    async def watch_gaps(self) -> None:
        """Flag tickets whose next event is missing past ``ingest.gap_after``."""
        gap_after = self.center.ingest.gap_after
        while True:
            await asyncio.sleep(min(gap_after / 4, 60.0))
            try:
                flagged = await self.store.flag_gaps(time.time(), gap_after)
            except Exception as exc:
                log.error("ledger %s: cannot check for gaps: %s", self.store.where, exc)
                continue
            for ticket_id, missing in flagged:
                log.warning(
                    "ticket %s: event seq %d missing for over %.0f s; later events wait for it",
                    ticket_id, missing, gap_after,
                )  # fmt: skip


def _status(
    topic: str, payload: bytes, statuses: list[tuple[str, dict[str, Any]]], what: str = "status"
) -> list[Rejection]:
    """Adds a site's status (or health) to ``statuses``; a message that is not one is a
    Rejection."""
    site_id = site_of(topic)
    try:
        status = json.loads(payload) if len(payload) <= MAX_EVENT_BYTES else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        status = None
    if site_id is None or not isinstance(status, dict):
        reason = f"not a {what}: a JSON object of at most 256 KiB expected"
        return [Rejection(topic, payload[:MAX_EVENT_BYTES], reason)]
    statuses.append((site_id, status))
    return []


class LedgerFailedError(Exception):
    """The ledger could not take a message; it stays unacknowledged at the broker."""
