"""The ISAPI driver of an agent: one HTTP session per device, made at its first poll."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from drivers.http import HttpDevice
from gateway.config.load import LoadedConfig
from gateway.config.profile import Profile
from gateway.config.protocols.isapi import isapi_settings
from gateway.config.site import Device
from gateway.protocols.http.reader import HttpReader
from gateway.protocols.http.target import http_target
from gateway.protocols.isapi.dialect import IsapiDialect


class IsapiShared:
    """The sessions of the site's ISAPI devices (each keeps its digest nonce)."""

    def __init__(self, config: LoadedConfig) -> None:
        self.limits = config.site_file.limits
        self.sessions: dict[str, HttpDevice] = {}

    def session(self, device: Device) -> HttpDevice:
        session = self.sessions.get(device.id)
        if session is None:
            settings = isapi_settings(device)
            if settings is None:
                raise ValueError(f"device {device.id}: an ISAPI profile needs an isapi: section")
            session = self.sessions[device.id] = HttpDevice(
                http_target(device, settings, self.limits)
            )
        return session

    def reader(self, device: Device, profile: Profile) -> HttpReader[Element, Element]:
        return HttpReader(
            device, profile, self.session(device), IsapiDialect(), self.limits.poll_bytes
        )

    async def close(self) -> None:
        for session in self.sessions.values():
            await session.close()
        self.sessions.clear()
