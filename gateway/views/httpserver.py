"""A small read-only HTTP/1.1 server on asyncio streams, for the status page.

GET and HEAD only, one request per connection (``Connection: close``), a bounded
request head read within a deadline: enough for a browser and curl on a LAN, with
nothing a slow or hostile client can hold open. Handlers are plain coroutines from
`Request` to `Response`; the server owns its connection tasks and ends them all on
`close`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger("lvgw.views.http")

MAX_HEAD_BYTES = 16 * 1024
READ_TIMEOUT = 10.0
WRITE_TIMEOUT = 30.0


class StatusPageError(Exception):
    """The status page cannot start (its address or token is unusable)."""


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str  # decoded, without the query
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-case

    def cookie(self, name: str) -> str | None:
        for part in self.headers.get("cookie", "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == name:
                return value
        return None


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Awaitable[Response]]


def _parse_head(head: bytes) -> Request | None:
    try:
        text = head.decode("iso-8859-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes anything
        return None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        return None
    method, target, _ = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            return None
        headers[name.strip().lower()] = value.strip()
    url = urlsplit(target)
    return Request(method, unquote(url.path), parse_qs(url.query), headers)


def _encode(response: Response, head_only: bool) -> bytes:
    reason = HTTPStatus(response.status).phrase
    headers = {
        "Content-Type": response.content_type,
        "Content-Length": str(len(response.body)),
        "Connection": "close",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        **response.headers,
    }
    head = f"HTTP/1.1 {response.status} {reason}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    return (head + "\r\n").encode("latin-1") + (b"" if head_only else response.body)


class HttpServer:
    def __init__(self, handler: Handler, host: str, port: int) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def bound_port(self) -> int:
        """The port actually bound (differs from ``port`` when that was 0)."""
        assert self._server is not None
        assert self._server.sockets
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(
                self._connected, self.host, self.port, limit=MAX_HEAD_BYTES
            )
        except OSError as exc:
            raise StatusPageError(f"cannot listen on {self.host}:{self.port}: {exc}") from exc

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        # Their CancelledErrors are collected here; a cancellation of close() is not.
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            pass  # the client went away or dawdled: nothing to tell it
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_TIMEOUT):
                head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            await self._send(writer, Response(431, b"request head too large\n"), False)
            return
        request = _parse_head(head[:-4])
        if request is None:
            await self._send(writer, Response(400, b"bad request\n"), False)
            return
        if request.method not in ("GET", "HEAD"):
            response = Response(
                405, b"read-only: GET and HEAD only\n", headers={"Allow": "GET, HEAD"}
            )
        else:
            try:
                response = await self.handler(request)
            except Exception:
                log.exception("status page failed on %s", request.path)
                response = Response(500, b"internal error\n")
        await self._send(writer, response, request.method == "HEAD")

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, response: Response, head_only: bool) -> None:
        writer.write(_encode(response, head_only))
        async with asyncio.timeout(WRITE_TIMEOUT):
            await writer.drain()
