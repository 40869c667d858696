"""The ISAPI web application of one simulated NVR: its documents and its alertStream."""

from __future__ import annotations

from aiohttp import web

from simulators.http import isapi
from simulators.http.server import Account, EventFeed, guard
from simulators.models.events import DiskChanged, Event, VideoChanged
from simulators.models.nvr import NvrModel

HEARTBEAT = 10.0  # seconds between two keep-alive alerts of an idle stream


def _alert_of(model: NvrModel, event: Event) -> str | None:
    if isinstance(event, VideoChanged):
        state = "active" if event.lost else "inactive"
        return isapi.alert(model, "videoloss", state, event.channel, "videoloss alarm")
    if isinstance(event, DiskChanged):
        state = "active" if event.failed else "inactive"
        return isapi.alert(model, "diskerror", state, None, f"HDD {event.disk} error")
    return None


def isapi_app(model: NvrModel, account: Account, heartbeat: float = HEARTBEAT) -> web.Application:
    app = web.Application(middlewares=[guard(model, account)])

    async def document(request: web.Request) -> web.Response:
        render = isapi.DOCUMENTS.get(request.path)
        if render is None:
            body = isapi.response_status(request.path, 4, "Invalid Operation", "notSupport")
            return web.Response(status=404, text=body, content_type="application/xml")
        return web.Response(text=render(model), content_type="application/xml", charset="UTF-8")

    async def alert_stream(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": f"multipart/mixed; boundary={isapi.BOUNDARY}"}
        )
        await response.prepare(request)
        with EventFeed(model) as feed:
            while model.answering():
                event = await feed.next(heartbeat)
                if event is None:  # idle: Hikvision's keep-alive is a videoloss "inactive"
                    xml = isapi.alert(model, "videoloss", "inactive", 0, "videoloss alarm")
                else:
                    xml = _alert_of(model, event) or ""
                if xml and model.answering():
                    await response.write(isapi.stream_part(xml))
        return response

    app.router.add_get(isapi.ALERT_STREAM, alert_stream)
    app.router.add_get("/{tail:.*}", document)
    return app
