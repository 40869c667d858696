"""An aiohttp.web application on a TCP address, bounded against floods.

aiohttp speaks HTTP; this puts in front of it what a small box on a customer's LAN
needs so that nobody on that LAN can use up its file descriptors:

- at most `Limits.max_connections` connections open at once. One more is accepted,
  answered ``503`` and closed at once: nothing waits beyond the kernel's listen
  backlog (`Limits.backlog`, small: it also bounds how many are accepted in one pass
  of the event loop), and the descriptors in use stay below the cap plus a few
  backlogs;
- a connection must deliver a complete request head within `Limits.head_timeout`
  of connecting, and the next one within `Limits.keepalive_timeout` of a response;
  idle or dripping connections are closed, whatever aiohttp's version does itself;
- no access log, and a client's malformed request (answered ``400``) is not logged
  as an error: garbage from the LAN must not flood the log.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

log = logging.getLogger("lvgw.web")
protocol_log = logging.getLogger("lvgw.web.protocol")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REFUSAL_REPORT_EVERY = 60.0  # seconds between two warnings about refused connections


def _busy_response() -> bytes:
    body = b"too many connections: try again in a few seconds\n"
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Retry-After: 5\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


BUSY = _busy_response()


@dataclass(frozen=True, slots=True)
class Limits:
    max_connections: int = 64
    head_timeout: float = 5.0  # from connecting to a complete first request head
    keepalive_timeout: float = 5.0  # idle between a response and the next request head
    max_line_size: int = 8190  # the request line, and each header line
    max_headers: int = 64
    lingering_time: float = 1.0  # reading an unwanted request body before closing
    shutdown_timeout: float = 2.0  # for requests in progress at close
    # The listen backlog, which is also how many connections the event loop accepts in
    # one pass before any of them is admitted or refused (each in a task of its own,
    # closed a pass or two later): a flood holds about the cap plus three times this
    # many descriptors. At 128, aiohttp's default, a flood on a loaded machine reached
    # the cap plus 300 and accept() failed for want of descriptors.
    backlog: int = 16


class _ClientErrors(logging.Filter):
    """Drops aiohttp's report of a malformed request: the client got its 400."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, HttpProcessingError | ConnectionError)


protocol_log.addFilter(_ClientErrors())


class _Refused(asyncio.Protocol):
    """A connection over the cap: answered 503 (over TLS: no word) and closed at once,
    before reading anything."""

    def __init__(self, tls: bool) -> None:
        self._tls = tls

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        if not self._tls:
            transport.write(BUSY)  # fits the socket buffer: close() does not wait for it
        transport.close()


class _Admitted(asyncio.Protocol):
    """One admitted connection: aiohttp's handler, behind the first-request deadline."""

    def __init__(
        self,
        handler: asyncio.Protocol,
        head_timeout: float,
        on_closed: Callable[[_Admitted], None],
        tls: ssl.SSLContext | None,
    ) -> None:
        self._handler = handler
        self._head_timeout = head_timeout
        self._on_closed = on_closed
        self._tls = tls
        self._deadline: asyncio.TimerHandle | None = None
        self._transport: asyncio.BaseTransport | None = None
        self._handshake: asyncio.Task[None] | None = None
        self.timed_out = False
        self._handler_connected = False
        self._finished = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        loop = asyncio.get_running_loop()
        self._deadline = loop.call_later(self._head_timeout, self._too_slow)
        if self._tls is None:
            self._handler_connected = True
            self._handler.connection_made(transport)
            return
        # TLS after the cap, on the accepted socket: a refused connection never
        # costs a handshake, and the head deadline covers the handshake too.
        assert isinstance(transport, asyncio.Transport)
        transport.pause_reading()  # nothing may arrive before start_tls takes over
        # Held here: the loop keeps only a weak reference to a task.
        self._handshake = loop.create_task(self._start_tls(transport, self._tls))

    async def _start_tls(self, raw: asyncio.Transport, context: ssl.SSLContext) -> None:
        loop = asyncio.get_running_loop()
        try:
            secured = await loop.start_tls(
                raw, self, context, server_side=True, ssl_handshake_timeout=self._head_timeout
            )
        except Exception:  # any failed handshake: the handler never saw this connection
            raw.close()
            self._finish()
            return
        if secured is None:  # only when the loop is closing
            raw.close()
            self._finish()
            return
        self._transport = secured
        self._handler_connected = True
        self._handler.connection_made(secured)

    def request_seen(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        self.timed_out = True
        if self._transport is not None:
            self._transport.close()
        # A handshake in progress fails with its transport, and reports the close.

    def _finish(self) -> None:
        self.request_seen()
        if not self._finished:
            self._finished = True
            self._on_closed(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish()
        if self._handler_connected:
            self._handler.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._handler.data_received(data)

    def eof_received(self) -> bool | None:
        return self._handler.eof_received()

    def pause_writing(self) -> None:
        self._handler.pause_writing()

    def resume_writing(self) -> None:
        self._handler.resume_writing()


@web.middleware
async def _head_arrived(request: web.Request, handler: Handler) -> web.StreamResponse:
    transport = request.transport
    protocol = transport.get_protocol() if transport is not None else None
    if isinstance(protocol, _Admitted):
        protocol.request_seen()
    return await handler(request)


class _CappedSite(web.BaseSite):
    """aiohttp's TCPSite, with `WebServer._accept` as the protocol factory."""

    def __init__(
        self, runner: web.AppRunner, owner: WebServer, ssl_context: ssl.SSLContext | None
    ) -> None:
        super().__init__(runner, ssl_context=ssl_context)
        self._owner = owner

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://{self._owner.host}:{self._owner.requested_port}"

    async def start(self) -> None:
        await self.start_server()

    async def start_server(self) -> asyncio.Server:
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = server = await loop.create_server(
            self._owner._accept, self._owner.host, self._owner.requested_port,
            backlog=self._owner.limits.backlog,  # TLS: started by each admitted connection
        )  # fmt: skip
        return server


class WebServer:
    """Serves ``app`` on ``host:port`` within `Limits` (see the module's description).

    The server adds one middleware in front of the app's own (the first-request
    deadline), so give it an app that has not started yet.
    """

    def __init__(
        self,
        app: web.Application,
        host: str,
        port: int,
        limits: Limits = Limits(),
        *,
        name: str = "web server",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.limits = limits
        self.name = name
        self.ssl_context = ssl_context
        self.refused = 0  # connections turned away at the cap, since start
        self.timed_out = 0  # connections closed for want of a request head
        self._open: weakref.WeakSet[_Admitted] = weakref.WeakSet()
        self._runner: web.AppRunner | None = None
        self._site: _CappedSite | None = None
        self._handlers: web.Server | None = None  # aiohttp's protocol factory
        self._bound_port: int | None = None
        self._refused_unreported = 0
        self._last_report = float("-inf")
        app.middlewares.insert(0, _head_arrived)

    @property
    def port(self) -> int:
        """The port actually bound (differs from the requested one when that was 0)."""
        assert self._bound_port is not None, "not started"
        return self._bound_port

    @property
    def open_connections(self) -> int:
        return len(self._open)

    async def start(self) -> None:
        """Raises OSError when the address cannot be bound."""
        runner = web.AppRunner(
            self.app,
            access_log=None,
            handler_cancellation=True,  # a client gone: stop building its page
            logger=protocol_log,
            keepalive_timeout=self.limits.keepalive_timeout,
            max_line_size=self.limits.max_line_size,
            max_field_size=self.limits.max_line_size,
            max_headers=self.limits.max_headers,
            lingering_time=self.limits.lingering_time,
            shutdown_timeout=self.limits.shutdown_timeout,
        )
        await runner.setup()
        self._runner = runner
        self._handlers = runner.server
        site = _CappedSite(runner, self, self.ssl_context)
        try:
            server = await site.start_server()
        except BaseException:
            await self.close()
            raise
        self._site = site
        self._bound_port = int(server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
        self._site = None
        self._handlers = None
        self._bound_port = None

    def _accept(self) -> asyncio.Protocol:
        if len(self._open) >= self.limits.max_connections:
            self._note_refusal()
            return _Refused(tls=self.ssl_context is not None)
        assert self._handlers is not None, "not started"
        admitted = _Admitted(
            self._handlers(), self.limits.head_timeout, self._closed, self.ssl_context
        )
        # Weakly held: a connection whose transport never came up drops out by itself.
        self._open.add(admitted)
        return admitted

    def _closed(self, connection: _Admitted) -> None:
        self._open.discard(connection)
        if connection.timed_out:
            self.timed_out += 1

    def _note_refusal(self) -> None:
        self.refused += 1
        self._refused_unreported += 1
        now = time.monotonic()
        if now - self._last_report >= REFUSAL_REPORT_EVERY:
            log.warning(
                "%s: %d connections open (the limit): refused %d more",
                self.name, self.limits.max_connections, self._refused_unreported,
            )  # fmt: skip
            self._refused_unreported = 0
            self._last_report = now
