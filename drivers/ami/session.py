"""One PBX's manager session over time: opened when first needed, kept open between
polls (its pushed events are the PBX's news), opened again after a drop, never in a
storm.

Every attempt to open goes through ``connection()``, whoever asks (a poll, the event
reader): after a failed attempt no other is made before the backoff's delay has
passed, and the callers in between get the same error at once. A connection that
lived at least ``stable`` seconds and then dropped (Asterisk restarted) is opened
again at once; one that drops sooner counts as a failure. Refused credentials wait
longer (one minute doubling to fifteen): Asterisk logs each failed login in its
security log, which an intrusion filter may watch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from drivers.ami.client import AmiAnswer, AmiConnection, AmiTarget
from drivers.ami.errors import AmiActionError, AmiAuthError, AmiClosed, AmiError
from drivers.ami.message import Message
from drivers.backoff import Backoff

Clock = Callable[[], float]


class AmiSession:
    """The manager connection of one PBX, with its reconnection policy."""

    def __init__(
        self,
        target: AmiTarget,
        *,
        backoff_max: float = 300.0,
        stable: float = 10.0,
        clock: Clock = time.monotonic,
        connector: Callable[[AmiTarget], AmiConnection] = AmiConnection,
    ) -> None:
        self.target = target
        self.stable = stable
        self.clock = clock
        self.connector = connector
        self.retry = Backoff(1.0, max(1.0, backoff_max), jitter=0.5)
        self.auth_retry = Backoff(60.0, max(60.0, 900.0), jitter=0.25)
        self.conn: AmiConnection | None = None
        self.opened_at = 0.0
        self.next_attempt = 0.0  # monotonic time before which no attempt is made
        self.last_error: AmiError | None = None
        self.attempts = 0  # connections tried since the session began
        self._lock = asyncio.Lock()
        self._closed = False

    @property
    def connected(self) -> bool:
        return self.conn is not None and not self.conn.closed.is_set()

    async def connection(self) -> AmiConnection:
        """The open connection, opening one if the backoff allows; else the last error."""
        async with self._lock:
            if self._closed:
                raise AmiError("session closed")
            if self.conn is not None and self.conn.closed.is_set():
                self._dropped(self.conn)
            if self.conn is not None:
                return self.conn
            if self.clock() < self.next_attempt and self.last_error is not None:
                raise self.last_error
            return await self._open()

    async def _open(self) -> AmiConnection:
        conn = self.connector(self.target)
        self.attempts += 1
        try:
            await conn.open()
        except AmiError as exc:
            self.last_error = exc
            backoff = self.auth_retry if isinstance(exc, AmiAuthError) else self.retry
            self.next_attempt = self.clock() + backoff.next_delay()
            raise
        self.auth_retry.reset()
        self.last_error = None
        self.conn = conn
        self.opened_at = self.clock()
        return conn

    def _dropped(self, conn: AmiConnection) -> None:
        """The connection ended: when may the next one be tried."""
        self.conn = None
        self.last_error = conn.close_reason
        now = self.clock()
        if now - self.opened_at >= self.stable:
            self.retry.reset()
            self.next_attempt = now
        else:
            self.next_attempt = now + self.retry.next_delay()

    async def action(self, name: str, headers: Iterable[tuple[str, str]] = ()) -> AmiAnswer:
        """One read-only action on the (re)opened connection. A connection that had
        been open a while and turns out closed (Asterisk restarted since the last
        action) is replaced once at once, if the backoff allows: a PBX that is back is
        read, not counted as an outage."""
        attempts_before = self.attempts
        sent = list(headers)
        conn = await self.connection()
        try:
            return await conn.action(name, sent)
        except AmiActionError:
            raise  # the connection is fine; the PBX refused this action
        except AmiClosed:
            await conn.close()
            if self.attempts != attempts_before:
                raise  # a fresh connection that dropped at once: no second try
            conn = await self.connection()
        except AmiError:
            await conn.close()
            raise
        try:
            return await conn.action(name, sent)
        except AmiActionError:
            raise
        except AmiError:
            await conn.close()
            raise

    async def next_event(self) -> Message:
        """The next event the PBX pushes, across reconnections: between two failed
        attempts it waits for the backoff's delay instead of asking again."""
        while True:
            try:
                conn = await self.connection()
            except AmiError:
                if self._closed:
                    raise
                await asyncio.sleep(max(0.05, self.next_attempt - self.clock()))
                continue
            try:
                return await conn.next_event()
            except AmiError:
                continue  # dropped: connection() decides when to try again

    async def close(self) -> None:
        async with self._lock:
            self._closed = True
            conn, self.conn = self.conn, None
        if conn is not None:
            await conn.close()
