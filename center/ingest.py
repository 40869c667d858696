"""Ingest: ticket events and site statuses from the broker into the ledger.

Tickets come through a shared subscription (``$share/<group>/lvgw/v1/+/tickets``), so
several centers may share the load, and so do the gateways' replies (``acks-reply``,
``cmd-reply/<name>``, center/replies.py); statuses are retained messages, which a shared
subscription does not deliver, so each center takes them all (``lvgw/v1/+/status``;
recording one twice is harmless). Each message is acknowledged only after the ledger
committed it; when the ledger fails the connection is dropped without the
acknowledgement, and the broker sends the message again on the next connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence

import aiomqtt

from center import broker
from center.config import CenterFile
from center.events import MAX_EVENT_BYTES, Rejection, parse_ticket_event, site_of
from center.ledger import LedgerStore, Route
from center.replies import parse_reply, topic_kind
from drivers.backoff import Backoff
from gateway.sqlite import WorkerStoppedError

log = logging.getLogger("lvgw-center.ingest")


def ticket_filter(group: str) -> str:
    return f"$share/{group}/lvgw/v1/+/tickets"


def reply_filters(group: str) -> tuple[str, ...]:
    """The gateways' replies: each kept once in the ledger, so shared like tickets."""
    return (f"$share/{group}/lvgw/v1/+/acks-reply", f"$share/{group}/lvgw/v1/+/cmd-reply/+")


STATUS_FILTER = "lvgw/v1/+/status"


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
            except LedgerFailedError as exc:
                log.error("%s: not acknowledging, the broker keeps the message", exc)
            finally:
                self.connected.clear()
            await asyncio.sleep(backoff.next_delay())

    async def _session(self, backoff: Backoff) -> None:
        async with broker.client(self.center.broker) as mqtt:
            await mqtt.subscribe(ticket_filter(self.center.broker.group), qos=1)
            await mqtt.subscribe(STATUS_FILTER, qos=1)
            for replies in reply_filters(self.center.broker.group):
                await mqtt.subscribe(replies, qos=1)
            self.connected.set()
            backoff.reset()
            log.info("subscribed to %s", ticket_filter(self.center.broker.group))
            async for message in mqtt.messages:
                await self._take(message)
                broker.acknowledge(mqtt, message)

    async def _take(self, message: aiomqtt.Message) -> None:
        topic = message.topic.value
        payload = message.payload if isinstance(message.payload, bytes) else b""
        try:
            if topic.endswith("/tickets"):
                item = parse_ticket_event(topic, payload)
                outcome = await self.store.ingest(item, time.time(), self.routes)
                self.counts[outcome] = self.counts.get(outcome, 0) + 1
                if isinstance(item, Rejection):
                    log.warning("rejected a message on %s: %s", topic, item.reason)
                elif outcome == "applied":
                    self.applied()
            elif topic.endswith("/status"):
                await self._status(topic, payload)
            elif topic_kind(topic) is not None:
                await self._reply(topic, payload)
        except (sqlite3.Error, OSError, WorkerStoppedError) as exc:  # disk full, file gone...
            raise LedgerFailedError(f"ledger {self.store.path}: {exc}") from exc
        except Exception as exc:  # a message that trips a bug: kept aside, not retried forever
            log.exception("cannot take a message on %s", topic)
            reason = f"could not be taken: {type(exc).__name__}: {exc}"
            try:
                await self.store.ingest(Rejection(topic, payload[:MAX_EVENT_BYTES], reason),
                                        time.time(), ())  # fmt: skip
            except Exception as again:
                raise LedgerFailedError(f"ledger {self.store.path}: {again}") from again

    async def _status(self, topic: str, payload: bytes) -> None:
        site_id = site_of(topic)
        try:
            status = json.loads(payload) if len(payload) <= MAX_EVENT_BYTES else None
        except (UnicodeDecodeError, ValueError, RecursionError):
            status = None
        if site_id is None or not isinstance(status, dict):
            reason = "not a status: a JSON object of at most 256 KiB expected"
            await self.store.ingest(Rejection(topic, payload[:MAX_EVENT_BYTES], reason),
                                    time.time(), ())  # fmt: skip
            return
        await self.store.record_status(site_id, status, time.time())

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
                log.error("ledger %s: cannot check for gaps: %s", self.store.path, exc)
                continue
            for ticket_id, missing in flagged:
                log.warning(
                    "ticket %s: event seq %d missing for over %.0f s; later events wait for it",
                    ticket_id, missing, gap_after,
                )  # fmt: skip


class LedgerFailedError(Exception):
    """The ledger could not take a message; it stays unacknowledged at the broker."""
