"""The durable outbox for the asyncio side: tickets -> outbox -> uplink.

All SQLite work runs in one worker thread that the outbox owns, so a commit waiting on
fsync (a few ms here, tens of ms on an SD card) or a checkpoint never stalls the event
loop; ``close()`` joins the thread. Puts that arrive while a commit is in progress are
committed together in the next transaction (group commit), so many concurrent ticket
events share one fsync while each ``put`` still returns only after its own commit.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
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
from gateway.outbox.store import COMPACT_MIN_BYTES, OutboxStore, check_budgets, check_fits

T = TypeVar("T")

WORKER_THREAD_NAME = "lvgw-outbox"


@dataclass(slots=True)
class _PutJob:
    messages: tuple[OutboxMessage, ...]
    future: Future[list[int]] = field(default_factory=Future)


class Outbox:
    """Messages stored durably until the uplink acknowledges their delivery.

    Use from one asyncio loop: ``async with Outbox(path) as outbox: ...`` (or
    ``await outbox.open()`` ... ``await outbox.close()``).
    """

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
        self.path = Path(path)
        self._budgets = dict(budgets)
        self._max_db_bytes = max_db_bytes
        self._clock = clock
        self._compact_min_bytes = compact_min_bytes
        self._executor: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._store: OutboxStore | None = None  # set and used only in the worker thread
        self._queue: deque[_PutJob] = deque()
        self._items_event = asyncio.Event()  # replaced each time; see _items_arrived
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    async def open(self) -> Self:
        """Open (creating on first use) the file; raises `OutboxCorruptError` naming
        the file when it is not an lvgw outbox."""
        if self._executor is not None:
            raise OutboxError(f"{self.path}: the outbox is already open")
        self._loop = asyncio.get_running_loop()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=WORKER_THREAD_NAME)
        try:
            await asyncio.wrap_future(self._executor.submit(self._open_store))
        except BaseException:
            self._closed = True
            self._executor.submit(self._close_store)  # if the open finished after all
            self._executor.shutdown(wait=True)
            raise
        return self

    async def close(self) -> None:
        """Commit the puts already under way, close the file and join the worker thread."""
        if self._closed:
            return
        self._closed = True
        executor = self._executor
        if executor is None:
            return
        self._items_arrived()  # waiters wake up and find the outbox closed
        try:
            await asyncio.wrap_future(executor.submit(self._close_store))
        finally:
            executor.shutdown(wait=True)  # the worker is idle by now: this does not block

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def put(self, message: OutboxMessage) -> int:
        """Store one message; its id once committed (fsynced for a ticket event).

        Raises `OutboxFullError` when there is no room even after dropping droppable
        classes: nothing was stored, retry later. A put cancelled before its commit
        began stores nothing; one cancelled later may still have been stored.
        """
        (message_id,) = await self.put_many((message,))
        return message_id

    async def put_many(self, messages: Iterable[OutboxMessage]) -> list[int]:
        """Store several messages in one transaction; their ids, in order."""
        batch = tuple(messages)
        for message in batch:
            check_fits(message, self._budgets)
        executor = self._running()
        if not batch:
            return []
        job = _PutJob(batch)
        self._queue.append(job)
        executor.submit(self._commit_queued)
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

    def _running(self) -> ThreadPoolExecutor:
        if self._closed:
            raise OutboxClosedError(f"{self.path}: the outbox is closed")
        if self._executor is None:
            raise OutboxError(f"{self.path}: the outbox is not open (call open() first)")
        return self._executor

    async def _call(self, fn: Callable[[OutboxStore], T]) -> T:
        executor = self._running()
        return await asyncio.wrap_future(executor.submit(self._with_store, fn))

    def _with_store(self, fn: Callable[[OutboxStore], T]) -> T:
        assert self._store is not None, "only called once open() succeeded"
        return fn(self._store)

    def _items_arrived(self) -> None:
        # One event per generation: waiters hold the one they checked against.
        arrived, self._items_event = self._items_event, asyncio.Event()
        arrived.set()

    # -- in the worker thread -------------------------------------------------------

    def _open_store(self) -> None:
        self._store = OutboxStore.open(
            self.path,
            budgets=self._budgets,
            max_db_bytes=self._max_db_bytes,
            clock=self._clock,
            compact_min_bytes=self._compact_min_bytes,
        )

    def _close_store(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            store.close()

    def _commit_queued(self) -> None:
        """Commit every put queued so far in one transaction (group commit)."""
        jobs: list[_PutJob] = []
        while self._queue:
            job = self._queue.popleft()
            if job.future.set_running_or_notify_cancel():  # False: its put was cancelled
                jobs.append(job)
        if not jobs:
            return  # an earlier call already committed these
        try:
            ids = self._with_store(
                lambda store: store.insert([m for j in jobs for m in j.messages])
            )
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
