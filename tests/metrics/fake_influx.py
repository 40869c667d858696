"""A scripted stand-in for InfluxDB's write endpoint, for the unit tests of the writer
and the sink: it answers each request with the next scripted status (204 once the
script is used up), can hold answers back, and records what it was sent.

VictoriaMetrics is the real server of the other tests; it cannot be told to answer
400, 401 or 503, which is what this is for.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from collections.abc import AsyncIterator
from dataclasses import dataclass

from tests.realservers import free_port

REASONS = {204: "No Content", 400: "Bad Request", 401: "Unauthorized", 503: "Unavailable"}


@dataclass(frozen=True, slots=True)
class Request:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes  # decompressed

    @property
    def lines(self) -> list[str]:
        return self.body.decode().split("\n")


class FakeInflux:
    def __init__(self, script: list[int] | None = None) -> None:
        self.script = list(script or [])
        self.requests: list[Request] = []
        self.release = asyncio.Event()  # answers wait for it while `hold` is set
        self.hold = False
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            # Closing the connections ends their handlers (end of stream), so none is
            # cancelled inside asyncio's own callback.
            for writer in self._connections.values():
                writer.close()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (h.partition(":") for h in header_lines if h)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                self.requests.append(Request(request_line.split()[1], headers, body))
                if self.hold:
                    await self.release.wait()
                status = self.script.pop(0) if self.script else 204
                answer = b"" if status == 204 else b'{"code":"scripted","message":"scripted"}'
                writer.write(
                    f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\n"
                    f"Content-Length: {len(answer)}\r\n"
                    "Content-Type: application/json\r\n\r\n".encode()
                    + answer
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._connections.pop(task, None)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


@contextlib.asynccontextmanager
async def fake_influx(script: list[int] | None = None) -> AsyncIterator[FakeInflux]:
    server = FakeInflux(script)
    await server.start()
    try:
        yield server
    finally:
        server.release.set()
        await server.stop()
