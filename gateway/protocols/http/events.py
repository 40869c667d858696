"""The push source of an HTTP device API: each device's event stream (ISAPI's
alertStream, Dahua's eventManager attach), followed by gateway/protocols/push.py.

A device has a stream when its settings say ``events: true`` and its profile names
events of that API (``isapi: events:`` / ``dahua: events:``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence

from pydantic import BaseModel

from drivers.http import HttpDevice, HttpError
from drivers.http.stream import Part, boundary_of, multipart_parts
from gateway.config.limits import Limits
from gateway.config.load import LoadedConfig
from gateway.config.protocols.http import HttpApi, HttpEvents
from gateway.protocols.http.target import http_target
from gateway.protocols.push import (
    DeviceEvent,
    EventStream,
    StreamedDevice,
    StreamFailed,
    StreamSource,
)

# A device's events until the stream breaks (StreamFailed): its session, the bounds,
# and the event codes its profile knows.
Follow = Callable[[HttpDevice, Limits, Sequence[str]], AsyncIterator[DeviceEvent]]


async def stream_parts(
    session: HttpDevice, path: str, limits: Limits, idle: float | None = None
) -> AsyncIterator[Part]:
    """The parts of the ``multipart`` stream ``path`` of one device, bounded by
    ``limits``, until it breaks (StreamFailed, its failure classified)."""
    try:
        async with session.stream(path, idle=idle or limits.event_idle) as response:
            boundary = boundary_of(response.headers.get("Content-Type", ""))
            parts = multipart_parts(
                response.content.iter_any(),
                boundary,
                limits.event_line_bytes,
                limits.event_part_bytes,
            )
            async for part in parts:
                yield part
    except HttpError as exc:
        raise StreamFailed(exc.kind, str(exc)) from exc


def _opener(follow: Follow, session: HttpDevice, limits: Limits, codes: list[str]) -> EventStream:
    def open_stream() -> AsyncIterator[DeviceEvent]:
        return follow(session, limits, codes)

    return open_stream


class HttpEventSource(StreamSource):
    """The event streams of the site's devices on one HTTP API."""

    def __init__(
        self,
        config: LoadedConfig,
        protocol: str,
        settings: Callable[[BaseModel], HttpApi | None],
        events: Callable[[BaseModel], HttpEvents],
        follow: Follow,
    ) -> None:
        limits = config.site_file.limits
        self.sessions: list[HttpDevice] = []
        devices = []
        for device in config.devices:
            profile = config.profile_of(device)
            api = settings(device)
            if protocol not in profile.protocols or api is None or not api.events:
                continue
            known = {code: name for name, code in events(profile).events.items()}
            if not known:
                continue
            session = HttpDevice(http_target(config.device_over(device, protocol), api, limits))
            self.sessions.append(session)
            opener = _opener(follow, session, limits, list(known))
            devices.append(StreamedDevice(device.id, known, opener))
        super().__init__(f"{protocol}-events", devices, limits.event_backoff_max)

    async def close(self) -> None:
        for session in self.sessions:
            await session.close()
