"""The durable outbox for the asyncio side: tickets -> outbox -> uplink.

All SQLite work runs on the outbox's worker thread (`gateway.sqlite.Worker`), so a
commit waiting on fsync (a few ms here, tens of ms on an SD card) or a checkpoint never
stalls the event loop; ``close()`` joins the thread. Puts that arrive while a commit is
in progress are committed together in the next transaction (group commit), so many concurrent ticket
events share one fsync while each ``put`` still returns only after its own commit.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self, TypeVar

from gateway.outbox.errors import OutboxClosedError, OutboxError
from gateway.outbox.messages import (
    DEFAULT_BUDGETS,
    PRIORITY,
    ClassBudget,
    MessageClass,
    OutboxMessage,
    OutboxStats,
    StoredMessage,
)
from gateway.outbox.store import (
    COMPACT_MIN_BYTES,
    OutboxStore,
    Records,
    check_budgets,
    check_fits,
)
from gateway.sqlite import AsyncStore

T = TypeVar("T")

WORKER_THREAD_NAME = "lvgw-outbox"


@dataclass(slots=True)
class _PutJob:
    messages: tuple[OutboxMessage, ...]
    records: Records | None = None
    future: Future[list[int]] = field(default_factory=Future)


class Outbox(AsyncStore[OutboxStore]):
    """Messages stored durably until the uplink acknowledges their delivery.

    Use from one asyncio loop: ``async with Outbox(path) as outbox: ...`` (or
    ``await outbox.open()`` ... ``await outbox.close()``).
    """

    thread_name = WORKER_THREAD_NAME
    kind = "outbox"

    def __init__(
        self,
        path: Path | str,
        *,
        budgets: Mapping[MessageClass, ClassBudget] = DEFAULT_BUDGETS,
        max_db_bytes: int | None = None,
        clock: Callable[[], float] = time.time,
        compact_min_bytes: int = COMPACT_MIN_BYTES,
    ) -> None:
        check_budgets(budgets)
        super().__init__(path)
        self._budgets = dict(budgets)
        self._max_db_bytes = max_db_bytes
        self._clock = clock
        self._compact_min_bytes = compact_min_bytes
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: deque[_PutJob] = deque()
        self._items_event = asyncio.Event()  # replaced each time; see _items_arrived

    async def open(self) -> Self:
        """Open (creating on first use) the file; raises `OutboxCorruptError` naming
        the file when it is not an lvgw outbox."""
        self._loop = asyncio.get_running_loop()
        return await super().open()

    async def close(self) -> None:
        """Commit the puts already under way, close the file and join the worker thread."""
        if not self._closed:
            self._items_arrived()  # waiters wake up and find the outbox closed
        await super().close()  # after the puts already queued

    async def put(self, message: OutboxMessage) -> int:
        """Store one message; its id once committed (fsynced for a ticket event).

        Raises `OutboxFullError` when there is no room even after dropping droppable
        classes: nothing was stored, retry later. A put cancelled before its commit
        began stores nothing; one cancelled later may still have been stored.
        """
        (message_id,) = await self.put_many((message,))
        return message_id

    async def put_many(
        self, messages: Iterable[OutboxMessage], *, records: Records | None = None
    ) -> list[int]:
        """Store several messages in one transaction; their ids, in order.

        ``records`` (key -> body, None deletes) are written in the same transaction:
        state that must be on disk exactly when these messages are (the open tickets
        beside their events). A put with records is fsynced like a ticket event.
        """
        batch = tuple(messages)
        for message in batch:
            check_fits(message, self._budgets)
        worker = self._running()
        if not batch and not records:
            return []
        job = _PutJob(batch, dict(records) if records else None)
        self._queue.append(job)
        worker.post(self._commit_queued, "a group commit")
        return await asyncio.wrap_future(job.future)

    async def pending(
        self,
        limit: int = 100,
        *,
        classes: Collection[MessageClass] = PRIORITY,
        after_id: int = 0,
    ) -> list[StoredMessage]:
        """Up to ``limit`` waiting messages with ids above ``after_id``: tickets first,
        then control, then metrics; oldest first within a class. Nothing is removed."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        return await self._call(lambda store: store.pending(limit, classes, after_id))

    async def ack(self, ids: Iterable[int]) -> int:
        """Delete messages the broker accepted; how many were still stored."""
        wanted = tuple(ids)
        return await self._call(lambda store: store.ack(wanted))

    async def fail(self, message_id: int, error: str) -> bool:
        """Record a refused delivery (attempts + 1, last error); the message keeps its
        place at the head of its class. False if it is no longer stored."""
        return await self._call(lambda store: store.fail(message_id, error))

    async def records(self, prefix: str = "") -> dict[str, str]:
        """The records stored with `put_many` whose key starts with ``prefix``."""
        return await self._call(lambda store: store.records(prefix))

    async def stats(self) -> OutboxStats:
        return await self._call(lambda store: store.stats())

    async def wait_for_items(
        self, *, after_id: int = 0, classes: Collection[MessageClass] = PRIORITY
    ) -> None:
        """Return as soon as a message of ``classes`` with an id above ``after_id`` is
        stored (at once if one already is). Raises `OutboxClosedError` on close."""
        while True:
            self._running()
            # Taken before the check: a commit that lands during the check sets it.
            arrived = self._items_event
            if await self._call(lambda store: store.has_pending(classes, after_id)):
                return
            await arrived.wait()

    # -- internals ----------------------------------------------------------------

    def _error(self, message: str) -> Exception:
        return OutboxError(message)

    def _closed_error(self, message: str) -> Exception:
        return OutboxClosedError(message)

    def _items_arrived(self) -> None:
        # One event per generation: waiters hold the one they checked against.
        arrived, self._items_event = self._items_event, asyncio.Event()
        arrived.set()

    # -- in the worker thread -------------------------------------------------------

    def _open_store(self) -> OutboxStore:
        return OutboxStore.open(
            self.path,
            budgets=self._budgets,
            max_db_bytes=self._max_db_bytes,
            clock=self._clock,
            compact_min_bytes=self._compact_min_bytes,
        )

    def _commit_queued(self, store: OutboxStore) -> None:
        """Commit every put queued so far in one transaction (group commit)."""
        jobs: list[_PutJob] = []
        while self._queue:
            job = self._queue.popleft()
            if job.future.set_running_or_notify_cancel():  # False: its put was cancelled
                jobs.append(job)
        if not jobs:
            return  # an earlier call already committed these
        try:
            records = [j.records for j in jobs if j.records]
            ids = store.insert([m for j in jobs for m in j.messages], records)
        except Exception as exc:  # every put of the batch gets its own copy of the error
            for job in jobs:
                job.future.set_exception(_copy_error(exc))
            return
        start = 0
        for job in jobs:
            end = start + len(job.messages)
            job.future.set_result(ids[start:end])
            start = end
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._items_arrived)


def _copy_error(exc: Exception) -> OutboxError:
    """A separate exception per waiting put, so tracebacks do not pile up on one object."""
    if isinstance(exc, OutboxError):
        copy = type(exc)(*exc.args)
        copy.__cause__ = exc.__cause__
        return copy
    error = OutboxError(f"cannot store messages: {exc!r}")
    error.__cause__ = exc
    return error
