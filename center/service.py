"""``lvgw-center run``: the ledger, ingest and the adapters' delivery loops, together.

Each part is its own task: an adapter that is slow or down only delays its own queue,
never ingest or another adapter. On PostgreSQL each adapter's loop has a connection of
its own (it holds a transaction while a claimed delivery is sent); on SQLite all share
the one, and the worker holds the ledger's lock so no second worker runs on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from center import adapters
from center.config import CenterFile
from center.delivery import Deliverer
from center.ingest import Ingest
from center.ledger import LedgerStore, Route
from center.web import callback_server
from drivers.tasks import stop_tasks

log = logging.getLogger("lvgw-center")


def routes_of(center: CenterFile) -> list[Route]:
    return [
        Route(
            a.name,
            frozenset(a.levels),
            frozenset(a.sites) if a.sites is not None else None,
            frozenset(a.customers) if a.customers is not None else None,
        )
        for a in center.adapters
    ]


class Center:
    """The running center; `run` until ``stop`` is set."""

    def __init__(self, center: CenterFile) -> None:
        self.center = center
        self.store = LedgerStore(center.ledger, worker=True)
        shared = center.ledger.engine == "postgresql"
        self.deliverers = [
            Deliverer(adapters.build(settings, self.store), settings, self.store.session(), shared)
            for settings in center.adapters
        ]
        self.ingest = Ingest(center, self.store, routes_of(center), self._applied)
        self.web = callback_server(center, self.store)
        self.started = asyncio.Event()

    def _applied(self) -> None:
        for deliverer in self.deliverers:
            deliverer.wake()

    async def run(self, stop: asyncio.Event) -> None:
        async with contextlib.AsyncExitStack() as stores:
            await stores.enter_async_context(self.store)
            for deliverer in self.deliverers:
                if deliverer.store is not self.store:
                    await stores.enter_async_context(deliverer.store)
            if self.web is not None:
                try:
                    await self.web.start()
                except OSError as exc:
                    raise ListenError(f"web.listen {self.web.host}:{self.web.requested_port}:"
                                      f" cannot listen: {exc}") from exc  # fmt: skip
                log.info("callbacks on http://%s:%d/api/v1/", self.web.host, self.web.port)
            tasks = [
                asyncio.create_task(self.ingest.run(), name="center-ingest"),
                asyncio.create_task(self.ingest.watch_gaps(), name="center-gaps"),
                *(
                    asyncio.create_task(d.run(), name=f"center-adapter-{d.adapter.name}")
                    for d in self.deliverers
                ),
            ]
            self.started.set()
            log.info("lvgw-center started: ledger %s", self.store.where)
            try:
                await _until(stop, tasks)
            finally:
                await stop_tasks(*tasks)
                for task in tasks:
                    if not task.cancelled():
                        task.result()  # a part's own error, if one failed
                if self.web is not None:
                    await self.web.close()


class ListenError(Exception):
    """``web.listen`` cannot be bound (taken, or not an address of this host)."""


async def _until(stop: asyncio.Event, tasks: Sequence[asyncio.Task[None]]) -> None:
    """Wait for ``stop``; a task that ends on its own (a bug) ends the run with it."""
    stopping = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    for task in done:
        if task is not stopping:
            task.result()
            raise RuntimeError(f"{task.get_name()} ended")
