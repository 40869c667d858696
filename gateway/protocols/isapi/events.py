"""ISAPI's push source: each device's ``/ISAPI/Event/notification/alertStream``.

The recorder answers with an endless ``multipart/mixed`` body, one
``EventNotificationAlert`` per part (``eventType``, ``eventState`` active/inactive,
``channelID``); an idle stream carries ``videoloss`` "inactive" alerts as heartbeats.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

from drivers.http import HttpDevice, HttpError
from drivers.isapi import event_alert
from gateway.config.limits import Limits
from gateway.config.load import LoadedConfig
from gateway.config.protocols.isapi import ISAPI, isapi_events, isapi_settings
from gateway.protocols.http.events import HttpEventSource, stream_parts
from gateway.protocols.push import DeviceEvent

log = logging.getLogger("lvgw.events")

ALERT_STREAM = "/ISAPI/Event/notification/alertStream"


async def alert_events(
    session: HttpDevice, limits: Limits, codes: Sequence[str] = ()
) -> AsyncIterator[DeviceEvent]:
    """The alerts of one device's stream (every type: the recorder sends what its
    event triggers say; those the profile does not know are dropped later)."""
    async for part in stream_parts(session, ALERT_STREAM, limits):
        try:
            alert = event_alert(part.body)
        except HttpError as exc:  # one bad part: skipped, the stream goes on
            log.debug("alertStream part skipped: %s", exc)
            continue
        if alert is not None:
            yield DeviceEvent(alert.event_type, alert.state == "active", alert.channel)


def isapi_event_source(config: LoadedConfig) -> HttpEventSource | None:
    """The site's alertStreams, or None when no ISAPI device has one to follow."""
    source = HttpEventSource(config, ISAPI.name, isapi_settings, isapi_events, alert_events)
    return source if source.devices else None
