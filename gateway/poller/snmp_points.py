"""Poll a device's profile points over SNMP and decode them into readings."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from drivers.snmp import NO_SUCH, SnmpClient, SnmpError, SnmpTarget, SnmpValue, V3Credentials
from gateway.config.profile import Point, Profile
from gateway.config.site import Device
from gateway.config.types import read_secret_file
from gateway.model import Quality, Reading, Value
from gateway.poller.result import PollResult


def snmp_target(device: Device) -> SnmpTarget:
    """The driver's view of a device: address, port, credentials, timeout."""
    settings = device.snmp
    assert settings is not None, "a device polled over SNMP has snmp settings (checked at load)"
    v3 = None
    if settings.version == "3":
        assert settings.user is not None
        v3 = V3Credentials(
            user=settings.user,
            auth_protocol=settings.auth or "none",
            auth_key=read_secret_file(settings.auth_key_file).reveal()
            if settings.auth_key_file
            else "",
            priv_protocol=settings.priv or "none",
            priv_key=read_secret_file(settings.priv_key_file).reveal()
            if settings.priv_key_file
            else "",
        )
    return SnmpTarget(
        host=device.address,
        port=device.port or 161,
        version=settings.version,
        community=settings.community.reveal(),
        v3=v3,
        timeout=settings.timeout,
        retries=settings.retries,
    )


def decode(point: Point, raw: SnmpValue) -> tuple[Value, Quality]:
    """A protocol value to a reading value, by the point's declared type."""
    if raw is NO_SUCH:
        return None, Quality.BAD
    try:
        if point.type == "text":
            return (
                raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            ), Quality.GOOD
        if isinstance(raw, bytes | str):
            return None, Quality.BAD
        if point.type == "timeticks":
            return raw / 100.0 * point.scale, Quality.GOOD  # hundredths of a second -> seconds
        if point.type == "enum":
            return point.states.get(raw, f"unknown({raw})"), Quality.GOOD
        if point.type == "bool":
            return bool(raw), Quality.GOOD
        if point.type == "float" or point.scale != 1.0:
            return raw * point.scale, Quality.GOOD
        return raw, Quality.GOOD
    except (TypeError, ValueError):
        return None, Quality.BAD


class SnmpPointReader:
    """Reads all scalar points of one device in one GET; reachability and RTT are readings."""

    def __init__(self, device: Device, profile: Profile, client: SnmpClient) -> None:
        self.device = device
        self.target = snmp_target(device)
        self.client = client
        self.points = list(profile.points.items())
        self.oids = [point.oid for _, point in self.points]

    async def poll(self) -> PollResult:
        ts = datetime.now(UTC)
        started = time.monotonic()
        try:
            varbinds = await self.client.get(self.target, self.oids) if self.oids else []
        except SnmpError as exc:
            reading = Reading(self.device.id, "reachable", False, ts)
            return PollResult(self.device.id, ts, False, (reading,), f"{type(exc).__name__}: {exc}")
        rtt_ms = (time.monotonic() - started) * 1000.0
        readings = [
            Reading(self.device.id, "reachable", True, ts),
            Reading(self.device.id, "rtt", round(rtt_ms, 3), ts, unit="ms"),
        ]
        for (name, point), (_oid, raw) in zip(self.points, varbinds, strict=False):
            value, quality = decode(point, raw)
            readings.append(
                Reading(self.device.id, name, value, ts, unit=point.unit, quality=quality)
            )
        return PollResult(self.device.id, ts, True, tuple(readings))
