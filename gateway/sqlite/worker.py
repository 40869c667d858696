"""The one way the asyncio side uses a SQLite file: a worker thread that owns it.

A commit waiting on fsync (a few ms here, tens of ms on an SD card), a checkpoint or a
long maintenance step must never stall the event loop (the trap path's budget is 50 ms
at p99; docs/outbox.md has the measurements). So every store has one `Worker`: a
thread that opens the store, runs every job on it in the order they came, and closes
it. The connection never leaves that thread, so it needs no lock.

    worker = Worker("lvgw-outbox", open=lambda: OutboxStore.open(path), close=OutboxStore.close)
    await worker.start()                  # raises what opening raised
    ids = await worker.call(lambda store: store.insert(messages))
    worker.post(lambda store: store.add(readings), "an add")   # nobody waits for it
    await worker.stop()                   # jobs already queued run, then close, then join

`call` hands back the job's result, or raises its exception in the awaiting caller. A
caller cancelled before its job started skips the job; one cancelled later leaves it to
finish (its result is dropped). `post` is for work nobody waits for: its errors are
logged, never lost silently, and never end the thread.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast

R = TypeVar("R")
T = TypeVar("T")

log = logging.getLogger("gateway.sqlite")


class WorkerStoppedError(RuntimeError):
    """A job was given to a worker that is not running (never started, or stopped)."""


@dataclass(slots=True)
class _Job(Generic[R]):
    run: Callable[[R], object]
    future: Future[object] = field(default_factory=Future)


@dataclass(slots=True)
class _Post(Generic[R]):
    run: Callable[[R], object]
    what: str


@dataclass(slots=True)
class _Stop:
    future: Future[None] = field(default_factory=Future)


class Worker(Generic[R]):
    """A thread that owns one resource ``R`` (a store on its connection) and runs jobs on it.

    ``idle``, if given, runs on the resource whenever no job came for ``idle_seconds``
    (a due flush, a maintenance step); like a post, its errors are logged.
    """

    def __init__(
        self,
        name: str,
        *,
        open: Callable[[], R],
        close: Callable[[R], object],
        idle: Callable[[R], object] | None = None,
        idle_seconds: float = 1.0,
        logger: logging.Logger = log,
    ) -> None:
        self.name = name
        self._open = open
        self._close = close
        self._idle = idle
        self._idle_seconds = idle_seconds
        self._log = logger
        self._jobs: queue.SimpleQueue[_Job[R] | _Post[R] | _Stop] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._stopping = False

    @property
    def running(self) -> bool:
        """Started and not asked to stop: jobs are taken."""
        return self._thread is not None and not self._stopping

    async def start(self) -> None:
        """Start the thread and open the resource on it; raises what opening raised
        (and then no thread is left behind)."""
        if self._thread is not None:
            raise WorkerStoppedError(f"{self.name}: already started")
        opened: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._work,
            args=(opened,),
            name=self.name,
            # A store its owner never closed must not keep the process alive; what it
            # committed is safe in the file anyway.
            daemon=True,
        )
        self._thread.start()
        try:
            await asyncio.wrap_future(opened)
        except BaseException:
            self._stopping = True
            # If the open finishes after a cancellation, this closes what it opened.
            self._jobs.put(_Stop())
            self._thread.join()
            raise

    async def stop(self) -> None:
        """Run the jobs already queued, close the resource and join the thread. Raises
        what closing raised. A second call, or one before `start`, does nothing."""
        thread = self._thread
        if thread is None or self._stopping:
            self._stopping = True
            return
        self._stopping = True
        stop = _Stop()
        self._jobs.put(stop)
        try:
            await asyncio.wrap_future(stop.future)
        finally:
            thread.join()  # the resource is closed: the thread is returning now

    async def call(self, fn: Callable[[R], T]) -> T:
        """Run ``fn(resource)`` on the worker thread; its result, or its exception."""
        self._check_running()
        job: _Job[R] = _Job(fn)
        self._jobs.put(job)
        return cast(T, await asyncio.wrap_future(job.future))

    def post(self, fn: Callable[[R], object], what: str) -> None:
        """Queue ``fn(resource)`` without waiting for it; ``what`` names it in the log
        if it fails."""
        self._check_running()
        self._jobs.put(_Post(fn, what))

    def _check_running(self) -> None:
        if not self.running:
            state = "not started" if self._thread is None else "stopped"
            raise WorkerStoppedError(f"{self.name}: the worker is {state}")

    # -- in the worker thread -----------------------------------------------------------

    def _work(self, opened: Future[None]) -> None:
        if not opened.set_running_or_notify_cancel():
            return  # start() was cancelled before the thread got going
        try:
            resource = self._open()
        except BaseException as exc:
            opened.set_exception(exc)
            return
        opened.set_result(None)
        while True:
            item = self._next()
            if item is None:
                assert self._idle is not None
                self._background(self._idle, resource, "its idle work")
            elif isinstance(item, _Stop):
                self._stop(item, resource)
                return
            elif isinstance(item, _Post):
                self._background(item.run, resource, item.what)
            elif item.future.set_running_or_notify_cancel():  # False: its caller gave up
                try:
                    item.future.set_result(item.run(resource))
                except BaseException as exc:
                    item.future.set_exception(exc)

    def _next(self) -> _Job[R] | _Post[R] | _Stop | None:
        """The next item; None when ``idle_seconds`` passed without one (with ``idle``)."""
        if self._idle is None:
            return self._jobs.get()
        try:
            return self._jobs.get(timeout=self._idle_seconds)
        except queue.Empty:
            return None

    def _stop(self, stop: _Stop, resource: R) -> None:
        waited_for = stop.future.set_running_or_notify_cancel()
        try:
            self._close(resource)
        except BaseException as exc:
            if not waited_for:
                self._log.exception("%s: closing failed", self.name)
            else:
                stop.future.set_exception(exc)
            return
        if waited_for:
            stop.future.set_result(None)

    def _background(self, work: Callable[[R], object], resource: R, what: str) -> None:
        # An error here is logged, not raised: it would end the thread and leave every
        # later call waiting forever.
        try:
            work(resource)
        except Exception:
            self._log.exception("%s: %s failed", self.name, what)
