"""The AMI driver of an agent: one manager session per PBX, opened at its first poll
and kept open (its events are the PBX's news), closed when the agent stops."""

from __future__ import annotations

import ssl
import zoneinfo
from datetime import tzinfo

from drivers.ami import AmiSession, AmiTarget
from gateway.config.load import LoadedConfig
from gateway.config.profile import Profile
from gateway.config.protocols.ami import Ami, ami_options, ami_settings
from gateway.config.site import Device
from gateway.config.types import read_secret_file
from gateway.protocols.ami.events import AmiEvents
from gateway.protocols.ami.reader import AmiReader

PORT, TLS_PORT = 5038, 5039  # manager.conf's defaults: port, tlsbindaddr


def ami_target(device: Device, settings: Ami, config: LoadedConfig) -> AmiTarget:
    """Address, port, account (the secret read from its file now), TLS, bounds."""
    limits = config.site_file.limits
    context = None
    if settings.tls:
        context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None
        )
        if not settings.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    return AmiTarget(
        host=device.address,
        port=device.port or (TLS_PORT if settings.tls else PORT),
        username=settings.username,
        secret=read_secret_file(settings.secret_file).reveal(),
        auth=settings.auth,
        tls=context,
        timeout=settings.timeout,
        events="system" if settings.events else "off",
        line_bytes=limits.event_line_bytes,
        message_bytes=limits.event_part_bytes,
        answer_bytes=limits.poll_bytes,
    )


class AmiShared:
    """The manager sessions of the site's PBXs, by device id."""

    def __init__(self, config: LoadedConfig) -> None:
        self.config = config
        self.sessions: dict[str, AmiSession] = {}
        self.poll_on: dict[str, frozenset[str]] = {}  # device -> events that ask a poll

    def session(self, device: Device, profile: Profile) -> AmiSession:
        session = self.sessions.get(device.id)
        if session is None:
            settings = ami_settings(device)
            if settings is None:
                raise ValueError(f"device {device.id}: an AMI profile needs an ami: section")
            limits = self.config.site_file.limits
            target = ami_target(device, settings, self.config)
            session = AmiSession(target, backoff_max=limits.event_backoff_max)
            self.sessions[device.id] = session
            if settings.events:
                self.poll_on[device.id] = frozenset(e.lower() for e in ami_options(profile).poll_on)
        return session

    def zone(self, device: Device) -> tzinfo | None:
        """The PBX's time zone: its own, else the site's, else the gateway's (None)."""
        settings = ami_settings(device)
        name = (settings.timezone if settings else None) or self.config.site_file.site.timezone
        return zoneinfo.ZoneInfo(name) if name else None

    def reader(self, device: Device, profile: Profile) -> AmiReader:
        return AmiReader(device, profile, self.session(device, profile), self.zone(device))

    def push_source(self) -> AmiEvents | None:
        """The PBXs' pushed events, for those whose account keeps events on."""
        watched = {d: self.sessions[d] for d in self.poll_on}
        return AmiEvents(watched, self.poll_on) if watched else None

    async def close(self) -> None:
        for session in self.sessions.values():
            await session.close()
        self.sessions.clear()
