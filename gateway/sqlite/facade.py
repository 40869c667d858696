"""The asyncio face of a synchronous store: open, close and awaited calls on its `Worker`.

A store is written once, synchronously, over its `Database` (easy to test, usable from
a command that has no event loop); its asyncio face subclasses `AsyncStore`:

    class TicketStore(AsyncStore[TicketFile]):
        thread_name = "lvgw-ticket-store"
        kind = "ticket store"
        def _open_store(self) -> TicketFile:
            return TicketFile.open(self.path)
        async def load(self) -> list[OpenTicket]:
            return await self._call(lambda tickets: tickets.load())

    async with TicketStore(path) as store:
        tickets = await store.load()
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar, Generic, Protocol, Self, TypeVar

from gateway.sqlite.worker import Worker


class Closable(Protocol):
    def close(self) -> None: ...


S = TypeVar("S", bound=Closable)
T = TypeVar("T")


class AsyncStore(Generic[S]):
    """Opens the store ``S`` on a worker thread named `thread_name`; every call is a job
    for that thread. Subclasses give `_open_store` and may refine the errors."""

    thread_name: ClassVar[str]
    kind: ClassVar[str]  # what the file is, in messages: "outbox"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._worker: Worker[S] | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    async def open(self) -> Self:
        """Open (creating on first use) the file on a new worker thread; raises what
        opening raised, and then leaves no thread behind."""
        if self._worker is not None:
            raise self._error(f"{self.path}: the {self.kind} is already open")
        self._worker = self._make_worker()
        try:
            await self._worker.start()
        except BaseException:
            self._closed = True
            raise
        return self

    async def close(self) -> None:
        """Run the calls already made, close the file and join the thread (a no-op the
        second time)."""
        if self._closed or self._worker is None:
            self._closed = True
            return
        self._closed = True
        await self._worker.stop()

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- for subclasses -------------------------------------------------------------

    def _open_store(self) -> S:
        """Open the synchronous store; runs on the worker thread."""
        raise NotImplementedError

    def _make_worker(self) -> Worker[S]:
        return Worker(self.thread_name, open=self._open_store, close=_close)

    def _error(self, message: str) -> Exception:
        """The store's exception for opening it twice."""
        return RuntimeError(message)

    def _closed_error(self, message: str) -> Exception:
        """The store's exception for a use before `open`, or after `close` (or a failed
        `open`)."""
        return self._error(message)

    def _running(self) -> Worker[S]:
        if self._closed:
            raise self._closed_error(f"{self.path}: the {self.kind} is closed")
        if self._worker is None:
            raise self._closed_error(
                f"{self.path}: the {self.kind} is not open (call open() first)"
            )
        return self._worker

    async def _call(self, fn: Callable[[S], T]) -> T:
        """``fn(store)`` on the worker thread: its result, or its exception."""
        return await self._running().call(fn)


def _close(store: Closable) -> None:
    store.close()
