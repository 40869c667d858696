"""The Dahua HTTP API's push source: each device's
``/cgi-bin/eventManager.cgi?action=attach&codes=[...]&heartbeat=N``.

The recorder answers with an endless ``multipart/x-mixed-replace`` body, one
``text/plain`` part per event (``Code=VideoLoss;action=Start;index=0``) and a
``Heartbeat`` part every N seconds. ``Start`` and ``Stop`` set and clear the event of
channel (or disk) ``index`` + 1; ``Pulse`` is a moment, not a state, and is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

from drivers.dahua.events import event_of
from drivers.http import HttpDevice, HttpError
from gateway.config.limits import Limits
from gateway.config.load import LoadedConfig
from gateway.config.protocols.dahua import DAHUA, dahua_events, dahua_settings
from gateway.protocols.http.events import HttpEventSource, stream_parts
from gateway.protocols.push import DeviceEvent

log = logging.getLogger("lvgw.events")

HEARTBEAT = 20  # seconds between the recorder's heartbeats (the API allows 1 to 60)
STATES = {"Start": True, "Stop": False}


def attach_path(codes: Sequence[str]) -> str:
    listed = ",".join(codes)
    return f"/cgi-bin/eventManager.cgi?action=attach&codes=[{listed}]&heartbeat={HEARTBEAT}"


async def attach_events(
    session: HttpDevice, limits: Limits, codes: Sequence[str]
) -> AsyncIterator[DeviceEvent]:
    """The events ``codes`` of one device's stream, as they start and stop."""
    idle = max(limits.event_idle, 3.0 * HEARTBEAT)
    async for part in stream_parts(session, attach_path(codes), limits, idle):
        try:
            event = event_of(part.body)
        except HttpError as exc:  # one bad part: skipped, the stream goes on
            log.debug("attach part skipped: %s", exc)
            continue
        if event is None or event.action not in STATES:
            continue  # a heartbeat, or a pulse
        channel = str(event.index + 1) if event.index is not None else ""
        yield DeviceEvent(event.code, STATES[event.action], channel)


def dahua_event_source(config: LoadedConfig) -> HttpEventSource | None:
    """The site's attach streams, or None when no Dahua device has one to follow."""
    source = HttpEventSource(config, DAHUA.name, dahua_settings, dahua_events, attach_events)
    return source if source.devices else None
