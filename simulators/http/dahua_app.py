"""The Dahua HTTP API web application of one simulated NVR: its CGI requests and its
eventManager attach stream."""

from __future__ import annotations

import asyncio
import re
from zoneinfo import ZoneInfo

from aiohttp import web

from simulators.http import dahua
from simulators.http.server import Account, EventFeed, guard
from simulators.models.nvr import NvrModel

TEXT = "text/plain"
CODES = re.compile(r"^\[([A-Za-z0-9,]*)\]$")


def _answer(text: str, status: int = 200) -> web.Response:
    return web.Response(status=status, text=text, content_type=TEXT, charset="utf-8")


def dahua_app(model: NvrModel, account: Account, zone: ZoneInfo) -> web.Application:
    app = web.Application(middlewares=[guard(model, account)])

    async def magic_box(request: web.Request) -> web.Response:
        render = dahua.MAGIC_BOX.get(request.query.get("action", ""))
        return _answer(render(model, zone)) if render else _answer(dahua.ERROR, 400)

    async def global_cgi(request: web.Request) -> web.Response:
        if request.query.get("action") != "getCurrentTime":
            return _answer(dahua.ERROR, 400)
        return _answer(dahua.current_time(model, zone))

    async def storage_device(request: web.Request) -> web.Response:
        if request.query.get("action") != "getDeviceAllInfo":
            return _answer(dahua.ERROR, 400)
        return _answer(dahua.storage(model, zone))

    async def config_manager(request: web.Request) -> web.Response:
        render = dahua.CONFIGS.get(request.query.get("name", ""))
        if request.query.get("action") != "getConfig" or render is None:
            return _answer(dahua.ERROR, 400)
        return _answer(render(model))

    async def event_manager(request: web.Request) -> web.StreamResponse:
        action = request.query.get("action")
        if action == "getEventIndexes":
            return _answer(dahua.event_indexes(model, request.query.get("code", "")))
        if action == "attach":
            return await attach(request)
        return _answer(dahua.ERROR, 400)

    async def attach(request: web.Request) -> web.StreamResponse:
        listed = CODES.match(request.query.get("codes", ""))
        heartbeat = request.query.get("heartbeat", "")
        if listed is None or (heartbeat and not heartbeat.isdigit()):
            return _answer(dahua.ERROR, 400)
        codes = set(listed.group(1).split(","))
        every = min(max(int(heartbeat), 1), 60) if heartbeat else None
        response = web.StreamResponse(
            headers={"Content-Type": f"multipart/x-mixed-replace; boundary={dahua.BOUNDARY}"}
        )
        await response.prepare(request)
        loop = asyncio.get_running_loop()
        beat_at = loop.time() + every if every else None
        with EventFeed(model) as feed:
            while model.answering():
                wait = max(0.0, beat_at - loop.time()) if beat_at else 1.0
                event = await feed.next(wait)
                part = dahua.event_text(event) if event is not None else None
                if not model.answering():
                    break
                if part is not None and ("All" in codes or part[0] in codes):
                    await response.write(dahua.stream_part(part[1]))
                if beat_at and loop.time() >= beat_at:
                    await response.write(dahua.stream_part("Heartbeat"))
                    beat_at = loop.time() + (every or 1)
        return response

    app.router.add_get("/cgi-bin/magicBox.cgi", magic_box)
    app.router.add_get("/cgi-bin/global.cgi", global_cgi)
    app.router.add_get("/cgi-bin/storageDevice.cgi", storage_device)
    app.router.add_get("/cgi-bin/configManager.cgi", config_manager)
    app.router.add_get("/cgi-bin/eventManager.cgi", event_manager)

    async def unknown(request: web.Request) -> web.Response:
        return _answer(dahua.ERROR, 404)

    app.router.add_get("/{tail:.*}", unknown)
    return app
