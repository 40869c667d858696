"""The driver of an HTTP device API (ISAPI, Dahua): one session per device, made at
its first poll, and the reader of each device through the API's dialect."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, tzinfo
from typing import Any

from pydantic import BaseModel

from drivers.http import HttpDevice
from gateway.config.load import LoadedConfig
from gateway.config.profile import Profile
from gateway.config.protocols.http import HttpApi
from gateway.config.site import Device
from gateway.protocols.http.reader import Dialect, HttpReader
from gateway.protocols.http.target import http_target


class HttpShared:
    """The sessions of the site's devices on one HTTP API (each keeps its digest nonce)."""

    def __init__(
        self,
        config: LoadedConfig,
        section: str,
        settings: Callable[[BaseModel], HttpApi | None],
        dialect: Callable[[], Dialect[Any, Any]],
        local_time: bool = False,
    ) -> None:
        self.limits = config.site_file.limits
        self.section = section  # the device's settings section: "isapi", "dahua"
        self.settings = settings
        self.dialect = dialect
        # Whether the API gives its times as the recorder's wall clock without an
        # offset (Dahua): they are then read in the site's time zone.
        self.zone: tzinfo = config.site_file.site.local_zone if local_time else UTC
        self.sessions: dict[str, HttpDevice] = {}

    def session(self, device: Device) -> HttpDevice:
        session = self.sessions.get(device.id)
        if session is None:
            settings = self.settings(device)
            if settings is None:
                raise ValueError(f"device {device.id}: its profile needs a {self.section}: section")
            session = self.sessions[device.id] = HttpDevice(
                http_target(device, settings, self.limits)
            )
        return session

    def reader(self, device: Device, profile: Profile) -> HttpReader[Any, Any]:
        return HttpReader(
            device,
            profile,
            self.session(device),
            self.dialect(),
            self.limits.poll_bytes,
            self.zone,
        )

    async def close(self) -> None:
        for session in self.sessions.values():
            await session.close()
        self.sessions.clear()
