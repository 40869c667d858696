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
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from html import escape
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from gateway.config.listen import needs_token, parse_listen
from gateway.config.load import LoadedConfig
from gateway.config.meanings import Meaning
from gateway.config.profile import Profile
from gateway.config.types import read_secret_file
from gateway.i18n import N_, translator
from gateway.present import humanize
from gateway.present.summary import display_name, kind_word, site_meanings, summarize
from gateway.present.tables import device_tables
from gateway.proactive.ports import History
from gateway.snapshot import DeviceStatus, StatusSnapshot
from gateway.views import charts, pages
from gateway.views.status import StatusSource, agent_state, device_state
from gateway.webkit.guards import add_security_headers, read_only, same_site_target
from gateway.webkit.server import Handler, Limits, WebServer
from gateway.webkit.sessions import SessionStore

log = logging.getLogger("lvgw.views.status_page")

Clock = Callable[[], datetime]
COOKIE = "lvgw_status_session"
# The chart ranges (``?range=``): key, span, bucket width.
RANGES = (("24h", timedelta(hours=24), timedelta(minutes=10)),
          ("7d", timedelta(days=7), timedelta(hours=1)))  # fmt: skip
MAX_CHARTS = 4  # charts a device page shows at first (a screenful); ?charts=all for the rest
# Every text of the device page's charts, in one place.
RANGE_TITLES = {"24h": N_("Last 24 hours"), "7d": N_("Last 7 days")}
CHART_TEXT = {"more": N_("{count} more charts")}
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
        self.zone = config.site_file.site.timezone  # times are shown in the site's zone
        self.tr = translator(config.site_file.site.locale)  # the pages' language
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
        state = agent_state(data, now, self.tr)
        return _html(200, pages.index_page(data, state, now, self.meanings, self.tr, self.zone))

    async def _device(self, request: web.Request) -> web.Response:
        data, now = self.status(), self.clock()
        if data is None:
            return self._starting()
        device_id = request.match_info["device_id"]
        found = data.device(device_id)
        if found is None:
            return await self._not_found(request)
        return _html(200, await self._device_page(data, found, now, request.query))

    async def _not_found(self, request: web.Request) -> web.Response:
        if self.status() is None:
            return self._starting()
        _ = self.tr.gettext
        text = _("Nothing at {path}.").format(path=request.path)
        return _html(404, pages.message_page(_("Not found"), text, self.tr.locale))

    def _starting(self) -> web.Response:
        text = self.tr.gettext("No status yet: the agent is starting.")
        return _html(503, pages.message_page("lvgw status", text, self.tr.locale))

    # -- the device page --------------------------------------------------------

    async def _device_page(
        self, data: StatusSnapshot, device: DeviceStatus, now: datetime, query: Mapping[str, str]
    ) -> str:
        config_device = self.devices.get(device.id)
        meanings = self.meanings.get(device.id, {})
        zone = self.config.site_file.site.timezone
        _ = self.tr.gettext
        facts = [
            (_("id"), device.id),
            (_("name"), display_name(device, meanings)),
            (_("kind"), kind_word(device.kind, self.tr)),
            (_("address"), device.address),
        ]
        profile = None
        if config_device is not None:
            profile = self.config.profiles.get(config_device.profile)
            facts += [(_("profile"), config_device.profile),
                      (_("parent"), config_device.parent or "-"),
                      (_("role"), config_device.role or "-")]  # fmt: skip
        facts.append((_("state"), device_state(device, self.tr)))
        facts.append((_("polled"), humanize.local_time(device.last_poll, zone)))
        if device.error:
            facts.append((_("last error"), device.error))
        summary = summarize(device, meanings, self.tr)
        tables = device_tables(device, profile, meanings, self.tr)
        drawn, links = await self._charts(device, profile, meanings, now, query)
        state = agent_state(data, now, self.tr)
        return pages.device_page(
            data, device, facts, summary, tables, drawn, links, state, now, self.tr, self.zone
        )

    async def _charts(
        self,
        device: DeviceStatus,
        profile: Profile | None,
        meanings: Mapping[str, Meaning],
        now: datetime,
        query: Mapping[str, str],
    ) -> tuple[list[charts.Chart], str]:
        """The charts of the range asked for (``?range=7d``; 24 h by default), the first
        MAX_CHARTS unless ``?charts=all``, and the links to the rest."""
        if self.history is None:
            return [], ""
        points = await self.history.points(device.id)
        wanted = charts.worth_charting(points, meanings, device, self.tr)
        if not wanted:
            return [], ""
        key = query.get("range", RANGES[0][0])
        key, span, step = next((r for r in RANGES if r[0] == key), RANGES[0])
        everything = query.get("charts") == "all"
        shown = wanted if everything else wanted[:MAX_CHARTS]
        zone = ZoneInfo(self.config.site_file.site.timezone or "UTC")
        end = now.astimezone(zone)
        labels = _instance_labels(device, profile)
        drawn = [
            await charts.draw(self.history, device.id, w, labels.get(w.point.split(".")[0], {}),
                              end - span, end, step, self.tr)
            for w in shown
        ]  # fmt: skip
        base = f"/device/{quote(device.id, safe='')}"
        links = []
        for other, _, _ in RANGES:
            text = escape(self.tr.gettext(RANGE_TITLES[other]))
            if other == key:
                links.append(f"<strong>{text}</strong>")
            else:
                target = urlencode({"range": other, **({"charts": "all"} if everything else {})})
                links.append(f'<a href="{base}?{escape(target)}">{text}</a>')
        if len(wanted) > len(shown):
            target = urlencode({"range": key, "charts": "all"})
            more = self.tr.gettext(CHART_TEXT["more"]).format(count=len(wanted) - len(shown))
            links.append(f'<a href="{base}?{escape(target)}" id="more-charts">{escape(more)}</a>')
        return drawn, " · ".join(links)


def _instance_labels(device: DeviceStatus, profile: Profile | None) -> dict[str, dict[str, str]]:
    """Table name -> instance -> its name (the table's label column, as the snapshot has it)."""
    if profile is None:
        return {}
    return {
        name: dict(device.tables.get(f"{name}.{layout.label}", {}))
        for name, layout in profile.tables.items()
        if layout.label
    }
