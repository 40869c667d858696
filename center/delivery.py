"""One adapter's delivery loop over its queue in the ledger.

The ledger hands out, per ticket, only the first pending delivery (`Ledger.due`), so
a ticket's events reach the tool in seq order while other tickets go on. A failed
attempt is retried after a capped, jittered backoff that grows with its attempts
(drivers/backoff.py); after ``dead_after`` attempts it is dead-lettered (shown by
``lvgw-center tickets``) and the ticket's next event may go. The loop sleeps until the
next retry is due or ingest applies a new event (`wake`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from center.adapters import Adapter, DeliveryError
from center.config import AdapterSettings
from center.ledger import Delivery, LedgerStore
from drivers.backoff import Backoff

log = logging.getLogger("lvgw-center.delivery")


class Deliverer:
    def __init__(self, adapter: Adapter, settings: AdapterSettings, store: LedgerStore) -> None:
        self.adapter = adapter
        self.settings = settings
        self.store = store
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        ledger_trouble = Backoff(0.5, 30.0)
        try:
            while True:
                try:
                    due = await self.store.due(self.adapter.name, time.time())
                    for delivery in due:
                        await self._attempt(delivery)
                    if not due:
                        await self._sleep()
                    ledger_trouble.reset()
                except Exception as exc:  # the ledger failing: wait, never lose the queue
                    log.error("adapter %s: ledger %s: %s", self.adapter.name, self.store.path, exc)
                    await asyncio.sleep(ledger_trouble.next_delay())
        finally:
            await self.adapter.close()

    async def _attempt(self, delivery: Delivery) -> None:
        try:
            await self.adapter.send(delivery)
        except DeliveryError as exc:
            attempts = delivery.attempts + 1
            retry_at = None
            if attempts < self.settings.dead_after:
                backoff = Backoff(self.settings.backoff_initial, self.settings.backoff_max)
                backoff.failures = delivery.attempts
                retry_at = time.time() + backoff.next_delay()
            await self.store.failed(delivery.id, str(exc), retry_at)
            if retry_at is None:
                log.error("adapter %s: event %s dead-lettered after %d attempts: %s",
                          self.adapter.name, delivery.event_id, attempts, exc)  # fmt: skip
            elif attempts == 1:
                log.warning("adapter %s: event %s not delivered, will retry: %s",
                            self.adapter.name, delivery.event_id, exc)  # fmt: skip
            return
        await self.store.delivered(delivery.id, time.time())

    async def _sleep(self) -> None:
        next_at = await self.store.next_due_at(self.adapter.name)
        timeout = None if next_at is None else max(0.0, next_at - time.time())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()
