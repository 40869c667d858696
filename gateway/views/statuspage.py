"""The local status page the agent serves: the site at a glance, read-only.

- ``/``: devices coloured by their worst open level, open tickets with live countdowns;
- ``/device/<id>``: one device's facts, tickets, latest readings, and 24 h and 7 d
  charts from the embedded store (inline SVG);
- ``/api/status``: the status snapshot as JSON (what `lvgw status --json` prints).

It listens on ``agent.status_listen`` (127.0.0.1:8780 by default), served by
aiohttp.web through `gateway.webkit` (a cap on open connections, a deadline for the
request head, read-only methods, the security headers). Bound to anything but
loopback it requires the token in ``agent.status_token_file`` (the site file is
refused without one): as ``Authorization: Bearer <token>``, or once as
``?token=<token>``, which opens a session (a random cookie, never the token) and
redirects to the same page of this site without it. Without a token, requests must
name a loopback host (``Host:``), so a web page in the same browser cannot read the
status through a rebound DNS name.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aiohttp import web

from gateway.config.listen import needs_token, parse_listen
from gateway.config.load import LoadedConfig
from gateway.config.types import read_secret_file
from gateway.present.summary import site_meanings
from gateway.proactive.ports import History
from gateway.snapshot import DeviceStatus, StatusSnapshot
from gateway.views import pages, svg
from gateway.views.status import StatusSource, agent_state, device_state
from gateway.webkit.guards import add_security_headers, read_only, same_site_target
from gateway.webkit.server import Handler, Limits, WebServer
from gateway.webkit.sessions import SessionStore

log = logging.getLogger("lvgw.views.status_page")

Clock = Callable[[], datetime]
COOKIE = "lvgw_status_session"
RANGES = (("Last 24 hours", timedelta(hours=24), timedelta(minutes=10)),
          ("Last 7 days", timedelta(days=7), timedelta(hours=1)))  # fmt: skip
MAX_CHARTS = 16  # per range; the API and the report have the rest
MAX_LINES = 8  # instances drawn in one chart
FIRST_POINTS = ("reachable", "rtt")
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


class StatusPageError(Exception):
    """The status page cannot start (its address or token is unusable)."""


def _host_name(header: str) -> str:
    """The host of a ``Host:`` header, without port or IPv6 brackets."""
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return header.rpartition(":")[0] if header.count(":") == 1 else header


def _html(status: int, page: str) -> web.Response:
    return web.Response(status=status, text=page, content_type="text/html")


class StatusPage:
    def __init__(
        self,
        config: LoadedConfig,
        status: StatusSource,
        history: History | None = None,
        *,
        listen: str | None = None,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        """Raises `StatusPageError` when the address or the token is unusable."""
        agent = config.site_file.agent
        text = listen or agent.status_listen
        if text is None:
            raise StatusPageError("the status page is turned off (agent.status_listen: null)")
        try:
            host, port = parse_listen(text)
        except ValueError as exc:
            raise StatusPageError(f"agent.status_listen: {exc}") from exc
        self.token: str | None = None
        if agent.status_token_file is not None:
            try:
                self.token = read_secret_file(agent.status_token_file).reveal().strip()
            except OSError as exc:
                raise StatusPageError(
                    f"agent.status_token_file {agent.status_token_file}: cannot read: "
                    f"{exc.strerror or exc}"
                ) from exc
            if len(self.token) < 16:
                raise StatusPageError(
                    f"agent.status_token_file {agent.status_token_file}: the token must be "
                    "at least 16 characters"
                )
        if needs_token(host) and self.token is None:
            raise StatusPageError(
                f"the status page on {text} is reachable from the network: "
                "set agent.status_token_file"
            )
        self.config = config
        self.status = status
        self.history = history
        self.clock = clock
        self.host = host
        self.devices = {d.id: d for d in config.devices}
        self.meanings = site_meanings(config)  # what each device's readings mean
        self.sessions = SessionStore(agent.status_session_lifetime)
        app = web.Application(middlewares=[read_only, self._guard])
        add_security_headers(app, pages.CONTENT_SECURITY_POLICY)
        app.router.add_get("/", self._index)
        app.router.add_get("/api/status", self._api)
        app.router.add_get("/device/{device_id:.+}", self._device)
        app.router.add_get("/{path:.*}", self._not_found)
        limits = Limits(max_connections=agent.status_max_connections)
        self.server = WebServer(app, host, port, limits, name="status page")

    @property
    def port(self) -> int:
        return self.server.port

    async def start(self) -> None:
        try:
            await self.server.start()
        except OSError as exc:
            where = f"{self.host}:{self.server.requested_port}"
            raise StatusPageError(f"cannot listen on {where}: {exc}") from exc
        log.info(
            "status page on http://%s:%d/%s", self.host, self.port,
            " (token required)" if self.token else "",
        )  # fmt: skip

    async def close(self) -> None:
        await self.server.close()

    async def run(self) -> None:
        """Serve until cancelled."""
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.close()

    # -- who may read -----------------------------------------------------------

    def _is_token(self, given: str) -> bool:
        assert self.token is not None
        return hmac.compare_digest(given.encode(), self.token.encode())

    def _refused(self, request: web.Request) -> web.Response | None:
        """Why ``request`` may not read the page (a response), or None when it may."""
        if self.token is None:
            if _host_name(request.headers.get("Host", "")) not in LOOPBACK_NAMES | {self.host}:
                return web.Response(status=403, text="forbidden: use a loopback address\n")
            return None
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer ") and self._is_token(auth[7:].strip()):
            return None
        if self.sessions.valid(request.cookies.get(COOKIE)):
            return None
        from_query = request.query.get("token")
        if from_query is not None and self._is_token(from_query):
            rest = {k: request.query.getall(k) for k in set(request.query) if k != "token"}
            login = web.Response(
                status=303, headers={"Location": same_site_target(request.path, rest)}
            )
            self.sessions.set_cookie(login, request, COOKIE)
            return login
        return web.Response(
            status=401,
            text="token required: open this page once with ?token=<the status token>\n",
            headers={"WWW-Authenticate": 'Bearer realm="lvgw status"'},
        )

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        refused = self._refused(request)
        if refused is not None:
            refused.force_close()  # nothing more for a client that may not read
            return refused
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("status page failed on %s", request.path)
            return web.Response(status=500, text="internal error\n")

    # -- the pages --------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        data = self.status()
        if data is None:
            return web.json_response({"error": "no status yet"}, status=503)
        body = {**data.to_jsonable(), "agent_state": agent_state(data, self.clock())}
        return web.Response(
            body=json.dumps(body, ensure_ascii=False).encode(), content_type="application/json"
        )

    async def _index(self, request: web.Request) -> web.Response:
        data, now = self.status(), self.clock()
        if data is None:
            return self._starting()
        return _html(200, pages.index_page(data, agent_state(data, now), now, self.meanings))

    async def _device(self, request: web.Request) -> web.Response:
        data, now = self.status(), self.clock()
        if data is None:
            return self._starting()
        device_id = request.match_info["device_id"]
        found = data.device(device_id)
        if found is None:
            return await self._not_found(request)
        return _html(200, await self._device_page(data, found, now))

    async def _not_found(self, request: web.Request) -> web.Response:
        if self.status() is None:
            return self._starting()
        return _html(404, pages.message_page("Not found", f"Nothing at {request.path}."))

    @staticmethod
    def _starting() -> web.Response:
        page = pages.message_page("lvgw status", "No status yet: the agent is starting.")
        return _html(503, page)

    # -- the device page --------------------------------------------------------

    async def _device_page(self, data: StatusSnapshot, device: DeviceStatus, now: datetime) -> str:
        config_device = self.devices.get(device.id)
        facts = [
            ("id", device.id),
            ("name", device.name),
            ("kind", device.kind),
            ("address", device.address),
        ]
        if config_device is not None:
            facts += [("profile", config_device.profile), ("parent", config_device.parent or "-"),
                      ("role", config_device.role or "-")]  # fmt: skip
        facts.append(("state", device_state(device)))
        if device.error:
            facts.append(("last error", device.error))
        charts = await self._charts(device.id, device, now)
        return pages.device_page(data, device, facts, charts, agent_state(data, now), now)

    async def _charts(
        self, device_id: str, device: DeviceStatus, now: datetime
    ) -> list[tuple[str, list[tuple[str, str]]]]:
        if self.history is None:
            return []
        points = await self.history.points(device_id)
        ordered = [p for p in FIRST_POINTS if p in points] + [
            p for p in points if p not in FIRST_POINTS
        ]
        units = {name: item.unit for name, item in device.readings.items()}
        sections = []
        for title, span, step in RANGES:
            start = now - span
            items: list[tuple[str, str]] = []
            for point in ordered[:MAX_CHARTS]:
                instances = await self.history.instances(device_id, point)
                lines = []
                for instance in instances[:MAX_LINES]:
                    series = await self.history.series(device_id, point, instance, start, now, step)
                    lines.append(svg.Line(instance, series.samples))
                more = len(instances) - MAX_LINES
                caption = point + (f" (first {MAX_LINES} of {len(instances)})" if more > 0 else "")
                unit = units.get(point, "")
                items.append((caption, svg.chart(f"{device_id} {point}", unit, lines, start, now)))
            sections.append((title, items))
        return sections
