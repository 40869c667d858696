"""The center's ledger: every ticket event once, tickets in seq order, sites, and each
adapter's delivery queue, on SQLite (one worker) or PostgreSQL (several).

`Ledger` (store.py) is the synchronous store over one connection; its SQL is written
once for both engines (sql.py; the schema and its migrations: schema.py; each engine's
connection: sqlite.py, postgres.py). `LedgerStore` runs a `Ledger` on its own worker
thread for the asyncio side. Everything else in the center reaches the database
through these.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

from center.events import Rejection, TicketEvent
from center.ledger.apply import IngestOutcome, Route
from center.ledger.sqlite import LedgerBusyError, WorkerLock
from center.ledger.store import Delivery, Ledger, TicketRow
from center.ledger.url import LedgerUrl, check_url
from center.replies import Reply
from gateway.sqlite import AsyncStore

__all__ = [
    "Delivery",
    "IngestOutcome",
    "Ledger",
    "LedgerBusyError",
    "LedgerStore",
    "LedgerUrl",
    "Route",
    "TicketRow",
    "check_url",
]


class LedgerStore(AsyncStore[Ledger]):
    """The ledger for the asyncio side: one connection on its own thread.

    ``worker`` marks the store of a running ``lvgw-center run``: on SQLite it holds the
    file's worker lock while open, so a second worker is refused (`LedgerBusyError`).
    `session` gives a part of the worker that holds transactions of its own (an
    adapter's claimed delivery) a connection of its own on PostgreSQL.
    """

    thread_name = "lvgw-center-ledger"
    kind = "ledger"

    def __init__(self, url: LedgerUrl | Path, *, worker: bool = False) -> None:
        self.url = url if isinstance(url, LedgerUrl) else LedgerUrl(f"sqlite:///{url}")
        super().__init__(self.url.path if self.url.engine == "sqlite" else Path("."))
        self.where = self.url.where
        self._lock = WorkerLock(self.url.path) if worker and self.url.engine == "sqlite" else None

    async def open(self) -> Self:
        if self._lock is not None:
            self._lock.acquire()
        try:
            await super().open()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        return self

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            if self._lock is not None:
                self._lock.release()

    def session(self) -> LedgerStore:
        """A store for one more part of the worker: this one on SQLite (one connection,
        one writer), a new connection (not yet open) on PostgreSQL."""
        return self if self.url.engine == "sqlite" else LedgerStore(self.url)

    def _open_store(self) -> Ledger:
        return Ledger.connect(self.url)

    def is_unavailable(self, exc: BaseException) -> bool:
        """``exc`` says the database failed, not the data (see `Sql.is_unavailable`)."""
        from center.ledger import postgres, sqlite

        if self.url.engine == "postgresql":
            return postgres.is_unavailable(exc)
        return sqlite.is_unavailable(exc)

    async def ingest(
        self, item: TicketEvent | Rejection, now: float, routes: Sequence[Route]
    ) -> IngestOutcome:
        return await self._call(lambda ledger: ledger.ingest(item, now, routes))

    async def ingest_many(
        self, items: Sequence[TicketEvent | Rejection], now: float, routes: Sequence[Route]
    ) -> list[IngestOutcome]:
        return await self._call(lambda ledger: ledger.ingest_many(items, now, routes))

    async def flag_gaps(self, now: float, gap_after: float) -> list[tuple[str, int]]:
        return await self._call(lambda ledger: ledger.flag_gaps(now, gap_after))

    async def record_status(self, site_id: str, status: dict[str, Any], now: float) -> None:
        await self._call(lambda ledger: ledger.record_status(site_id, status, now))

    async def record_health(self, site_id: str, document: dict[str, Any], now: float) -> None:
        await self._call(lambda ledger: ledger.record_health(site_id, document, now))

    async def health(self, site_id: str) -> tuple[dict[str, Any], float] | None:
        return await self._call(lambda ledger: ledger.health(site_id))

    async def record_reply(self, reply: Reply, now: float) -> bool:
        return await self._call(lambda ledger: ledger.record_reply(reply, now))

    async def reply_to(self, request_id: str) -> dict[str, Any] | None:
        return await self._call(lambda ledger: ledger.reply_to(request_id))

    async def replies(self, site: str | None = None) -> list[dict[str, Any]]:
        return await self._call(lambda ledger: ledger.replies(site))

    async def locate_ticket(self, ticket_id: str) -> tuple[str, str] | None:
        return await self._call(lambda ledger: ledger.locate_ticket(ticket_id))

    async def record_statuses(
        self, statuses: Sequence[tuple[str, dict[str, Any]]], now: float
    ) -> None:
        await self._call(lambda ledger: ledger.record_statuses(statuses, now))

    async def due(self, adapter: str, now: float, limit: int = 50) -> list[Delivery]:
        return await self._call(lambda ledger: ledger.due(adapter, now, limit))

    async def claim(self, adapter: str, now: float) -> Delivery | None:
        return await self._call(lambda ledger: ledger.claim(adapter, now))

    async def release(self) -> None:
        await self._call(lambda ledger: ledger.release())

    async def next_due_at(self, adapter: str) -> float | None:
        return await self._call(lambda ledger: ledger.next_due_at(adapter))

    async def delivered(self, delivery_id: int, now: float) -> None:
        await self._call(lambda ledger: ledger.delivered(delivery_id, now))

    async def failed(self, delivery_id: int, error: str, retry_at: float | None) -> None:
        await self._call(lambda ledger: ledger.failed(delivery_id, error, retry_at))

    async def open_delivered(self, adapter: str) -> list[Delivery]:
        return await self._call(lambda ledger: ledger.open_delivered(adapter))

    async def tickets(self, open_only: bool = False, site: str | None = None) -> list[TicketRow]:
        return await self._call(lambda ledger: ledger.tickets(open_only, site))

    async def last_events(
        self, open_only: bool = False, site: str | None = None
    ) -> dict[str, dict[str, Any]]:
        return await self._call(lambda ledger: ledger.last_events(open_only, site))

    async def rejected(self) -> list[tuple[str, str | None, str]]:
        return await self._call(lambda ledger: ledger.rejected())

    async def sites(self) -> list[dict[str, Any]]:
        return await self._call(lambda ledger: ledger.sites())

    async def event_ids(self, ticket_id: str) -> list[tuple[str, int, bool]]:
        return await self._call(lambda ledger: ledger.event_ids(ticket_id))

    async def delivery_counts(self) -> dict[str, dict[str, int]]:
        return await self._call(lambda ledger: ledger.delivery_counts())
