"""One adapter's delivery loop over its queue in the ledger.

The ledger hands out, per ticket, only the first pending delivery (`Ledger.claim`), so
a ticket's events reach the tool in seq order while other tickets go on. On
PostgreSQL the claimed delivery stays locked until its outcome is recorded, so the
loops of several workers share one queue without sending an event twice; a worker
killed mid-send lets its claim go with its connection, and another worker sends that
one event again (the receiver sees the same ``X-Lvgw-Event-Id``). A failed
attempt is retried after a capped, jittered backoff that grows with its attempts
(drivers/backoff.py); after ``dead_after`` attempts it is dead-lettered (shown by
``lvgw-center tickets``) and the ticket's next event may go. The loop sleeps until the
next retry is due or ingest applies a new event (`wake`); on a shared ledger at most
`SHARED_POLL_S`, since other workers' events wake only their own loops. The adapter's
own `maintain` runs beside it as long as it runs.
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
from drivers.tasks import stop_task

log = logging.getLogger("lvgw-center.delivery")

SHARED_POLL_S = 1.0  # a loop on a shared ledger looks for other workers' events this often
BLOCKED_POLL_S = 1.0  # due deliveries it cannot take (held, or behind their ticket's first)


class Deliverer:
    def __init__(
        self, adapter: Adapter, settings: AdapterSettings, store: LedgerStore, shared: bool = False
    ) -> None:
        self.adapter = adapter
        self.settings = settings
        self.store = store
        self.shared = shared  # other workers use the same ledger
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        ledger_trouble = Backoff(0.5, 30.0)
        maintaining = asyncio.create_task(
            self.adapter.maintain(), name=f"center-adapter-{self.adapter.name}-maintain"
        )
        try:
            while True:
                try:
                    delivery = await self.store.claim(self.adapter.name, time.time())
                    if delivery is None:
                        await self._sleep()
                    else:
                        await self._attempt(delivery)
                    ledger_trouble.reset()
                except Exception as exc:  # the ledger failing: wait, never lose the queue
                    log.error("adapter %s: ledger %s: %s", self.adapter.name, self.store.where, exc)
                    with contextlib.suppress(Exception):
                        await self.store.release()
                    await asyncio.sleep(ledger_trouble.next_delay())
        finally:
            await stop_task(maintaining, reraise=True)
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
        timeout = None if next_at is None else next_at - time.time()
        if timeout is not None and timeout <= 0:
            timeout = BLOCKED_POLL_S
        if self.shared:
            timeout = SHARED_POLL_S if timeout is None else min(timeout, SHARED_POLL_S)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()
