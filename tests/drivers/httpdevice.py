"""A misbehaving HTTP device API on loopback for the driver tests: digest auth (the
simulators' RFC 7616 guard) in front of fixed answers, every request counted."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from urllib.parse import unquote

from aiohttp import web

from drivers.http import HttpTarget
from simulators.http.digest import DigestGuard

PASSWORD = "right-password"
Answer = Callable[[], web.StreamResponse]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeDevice:
    """Answers by the request's path with its query (percent-decoded), else by its path
    alone; ``slow`` paths answer after ``delay`` seconds; anything else is a 404."""

    def __init__(self, routes: Mapping[str, Answer], slow: frozenset[str] = frozenset()) -> None:
        self.guard = DigestGuard("test", "lvgw", PASSWORD)
        self.requests = 0
        self.routes = routes
        self.slow = slow
        self.delay = 3.0

    def app(self) -> web.Application:
        @web.middleware
        async def auth(request: web.Request, handler):  # type: ignore[no-untyped-def]
            self.requests += 1
            verdict = self.guard.check(
                request.method, request.raw_path, request.headers.get("Authorization")
            )
            if verdict != "ok":
                return web.Response(
                    status=401,
                    headers={"WWW-Authenticate": self.guard.challenge(verdict == "stale")},
                )
            return await handler(request)

        async def route(request: web.Request) -> web.StreamResponse:
            path_qs = unquote(request.path_qs)
            if path_qs in self.slow or request.path in self.slow:
                await asyncio.sleep(self.delay)
            make = self.routes.get(path_qs) or self.routes.get(request.path)
            return make() if make else web.Response(status=404)

        app = web.Application(middlewares=[auth])
        app.router.add_get("/{tail:.*}", route)
        return app


@asynccontextmanager
async def serving(device: FakeDevice) -> AsyncIterator[int]:
    """``device`` on a free loopback port, for as long as the block runs."""
    runner = web.AppRunner(device.app())
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield port
    finally:
        await runner.cleanup()


def target(port: int, password: str = PASSWORD, **kw: object) -> HttpTarget:
    return HttpTarget("127.0.0.1", port, user="lvgw", password=password, timeout=1.0, **kw)  # type: ignore[arg-type]
