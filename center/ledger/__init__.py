"""The center's ledger: every ticket event once, tickets in seq order, sites, and each
adapter's delivery queue.

`Ledger` (store.py) is the synchronous store over one SQLite file (gateway/sqlite:
versioned migrations, application id); `LedgerStore` runs it on its own worker thread
for the asyncio side. Everything else in the center reaches the database through
these, so another engine can take its place behind the same calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from center.events import Rejection, TicketEvent
from center.ledger.store import Delivery, IngestOutcome, Ledger, Route, TicketRow
from center.replies import Reply
from gateway.sqlite import AsyncStore

__all__ = ["Delivery", "IngestOutcome", "Ledger", "LedgerStore", "Route", "TicketRow"]


class LedgerStore(AsyncStore[Ledger]):
    thread_name = "lvgw-center-ledger"
    kind = "ledger"

    def _open_store(self) -> Ledger:
        return Ledger.open(self.path)

    async def ingest(
        self, item: TicketEvent | Rejection, now: float, routes: Sequence[Route]
    ) -> IngestOutcome:
        return await self._call(lambda ledger: ledger.ingest(item, now, routes))

    async def flag_gaps(self, now: float, gap_after: float) -> list[tuple[str, int]]:
        return await self._call(lambda ledger: ledger.flag_gaps(now, gap_after))

    async def record_status(self, site_id: str, status: dict[str, Any], now: float) -> None:
        await self._call(lambda ledger: ledger.record_status(site_id, status, now))

    async def record_reply(self, reply: Reply, now: float) -> bool:
        return await self._call(lambda ledger: ledger.record_reply(reply, now))

    async def reply_to(self, request_id: str) -> dict[str, Any] | None:
        return await self._call(lambda ledger: ledger.reply_to(request_id))

    async def replies(self, site: str | None = None) -> list[dict[str, Any]]:
        return await self._call(lambda ledger: ledger.replies(site))

    async def locate_ticket(self, ticket_id: str) -> tuple[str, str] | None:
        return await self._call(lambda ledger: ledger.locate_ticket(ticket_id))

    async def due(self, adapter: str, now: float, limit: int = 50) -> list[Delivery]:
        return await self._call(lambda ledger: ledger.due(adapter, now, limit))

    async def next_due_at(self, adapter: str) -> float | None:
        return await self._call(lambda ledger: ledger.next_due_at(adapter))

    async def delivered(self, delivery_id: int, now: float) -> None:
        await self._call(lambda ledger: ledger.delivered(delivery_id, now))

    async def failed(self, delivery_id: int, error: str, retry_at: float | None) -> None:
        await self._call(lambda ledger: ledger.failed(delivery_id, error, retry_at))

    async def tickets(self, open_only: bool = False, site: str | None = None) -> list[TicketRow]:
        return await self._call(lambda ledger: ledger.tickets(open_only, site))

    async def rejected(self) -> list[tuple[str, str | None, str]]:
        return await self._call(lambda ledger: ledger.rejected())

    async def sites(self) -> list[dict[str, Any]]:
        return await self._call(lambda ledger: ledger.sites())

    async def event_ids(self, ticket_id: str) -> list[tuple[str, int, bool]]:
        return await self._call(lambda ledger: ledger.event_ids(ticket_id))

    async def delivery_counts(self) -> dict[str, dict[str, int]]:
        return await self._call(lambda ledger: ledger.delivery_counts())
