"""ISAPI's push source: each device's ``/ISAPI/Event/notification/alertStream``.

The recorder answers with an endless ``multipart/mixed`` body, one
``EventNotificationAlert`` per part (``eventType``, ``eventState`` active/inactive,
``channelID``); an idle stream carries ``videoloss`` "inactive" alerts as heartbeats.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from drivers.http import HttpDevice, HttpError
from drivers.http.stream import boundary_of, multipart_parts
from drivers.isapi import event_alert
from gateway.config.limits import Limits
from gateway.config.load import LoadedConfig
from gateway.config.protocols.isapi import ISAPI, isapi_events, isapi_settings
from gateway.protocols.http.target import http_target
from gateway.protocols.push import (
    DeviceEvent,
    EventStream,
    StreamedDevice,
    StreamFailed,
    StreamSource,
)

log = logging.getLogger("lvgw.events")

ALERT_STREAM = "/ISAPI/Event/notification/alertStream"


def alert_events(session: HttpDevice, limits: Limits) -> AsyncIterator[DeviceEvent]:
    async def events() -> AsyncIterator[DeviceEvent]:
        try:
            async with session.stream(ALERT_STREAM, idle=limits.event_idle) as response:
                boundary = boundary_of(response.headers.get("Content-Type", ""))
                parts = multipart_parts(
                    response.content.iter_any(),
                    boundary,
                    limits.event_line_bytes,
                    limits.event_part_bytes,
                )
                async for part in parts:
                    try:
                        alert = event_alert(part.body)
                    except HttpError as exc:  # one bad part: skipped, the stream goes on
                        log.debug("alertStream part skipped: %s", exc)
                        continue
                    if alert is not None:
                        yield DeviceEvent(alert.event_type, alert.state == "active", alert.channel)
        except HttpError as exc:
            raise StreamFailed(exc.kind, str(exc)) from exc

    return events()


def _opener(session: HttpDevice, limits: Limits) -> EventStream:
    def open_stream() -> AsyncIterator[DeviceEvent]:
        return alert_events(session, limits)

    return open_stream


class IsapiEvents(StreamSource):
    """The alertStreams of the site's ISAPI devices (those with ``events: true``)."""

    def __init__(self, config: LoadedConfig) -> None:
        limits = config.site_file.limits
        self.sessions: list[HttpDevice] = []
        devices = []
        for device in config.devices:
            profile = config.profile_of(device)
            settings = isapi_settings(device)
            if profile.protocol != ISAPI.name or settings is None or not settings.events:
                continue
            known = {code: name for name, code in isapi_events(profile).events.items()}
            if not known:
                continue
            session = HttpDevice(http_target(device, settings, limits))
            self.sessions.append(session)
            devices.append(StreamedDevice(device.id, known, _opener(session, limits)))
        super().__init__("isapi-events", devices, limits.event_backoff_max)

    async def close(self) -> None:
        for session in self.sessions:
            await session.close()


def isapi_event_source(config: LoadedConfig) -> IsapiEvents | None:
    """The site's alertStreams, or None when no ISAPI device has one to follow."""
    source = IsapiEvents(config)
    return source if source.devices else None
