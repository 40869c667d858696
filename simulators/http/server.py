"""One aiohttp.web server per device that speaks an HTTP API (ISAPI, the Dahua API).

Every request passes digest authentication first (``digest.py``), as on the real
recorders; a device that does not answer (off, or behind a dead switch port) drops
the connection without a word. The event streams stay open, send what the model
announces and a heartbeat, and end when the device stops answering.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from simulators.errors import ServeError
from simulators.models.base import DeviceModel
from simulators.models.events import Event

log = logging.getLogger("simulators.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
EVENT_QUEUE = 256  # events a slow stream reader may fall behind by; older ones dropped


@dataclass(frozen=True, slots=True)
class Account:
    user: str
    password: str
    realm: str
    algorithm: str = "MD5"


class EventFeed:
    """The model's events for one open stream, bounded."""

    def __init__(self, model: DeviceModel) -> None:
        self.model = model
        self.queue: asyncio.Queue[Event] = asyncio.Queue(EVENT_QUEUE)

    def __enter__(self) -> EventFeed:
        self.model.listeners.append(self._on_event)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._on_event in self.model.listeners:
            self.model.listeners.remove(self._on_event)

    def _on_event(self, model: DeviceModel, event: Event) -> None:
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(event)

    async def next(self, wait: float) -> Event | None:
        try:
            return await asyncio.wait_for(self.queue.get(), wait)
        except TimeoutError:
            return None


def guard(model: DeviceModel, account: Account) -> Callable[..., Awaitable[web.StreamResponse]]:
    from simulators.http.digest import DigestGuard

    digest = DigestGuard(account.realm, account.user, account.password, account.algorithm)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        model.refresh()
        if not model.answering():
            if request.transport is not None:
                request.transport.close()  # no answer at all, as from a dead device
            return web.Response(status=503)
        verdict = digest.check(
            request.method, request.raw_path, request.headers.get("Authorization")
        )
        if verdict != "ok":
            return web.Response(
                status=401,
                text="<html><body>401 Unauthorized</body></html>",
                content_type="text/html",
                headers={"WWW-Authenticate": digest.challenge(stale=verdict == "stale")},
            )
        return await handler(request)

    return middleware


class HttpApiServers:
    """The HTTP API servers of a fleet (one runner per device)."""

    def __init__(self, apps: list[tuple[str, str, int, web.Application]]) -> None:
        self.apps = apps  # (device id, host, port, app)
        self.runners: list[web.AppRunner] = []

    async def start(self) -> None:
        try:
            for device_id, host, port, app in self.apps:
                runner = web.AppRunner(app, access_log=None, handle_signals=False)
                await runner.setup()
                self.runners.append(runner)
                site = web.TCPSite(runner, host, port, shutdown_timeout=0.5)
                try:
                    await site.start()
                except OSError as exc:
                    raise ServeError(
                        f"device {device_id}: cannot serve HTTP on {host}:{port}: {exc.strerror}"
                    ) from exc
                log.info("%s: HTTP API on %s:%d", device_id, host, port)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        runners, self.runners = self.runners, []
        for runner in runners:
            await runner.cleanup()
