"""A device's ``isapi:`` / ``dahua:`` section -> the driver's HttpTarget."""

from __future__ import annotations

from drivers.http import HttpTarget
from gateway.config.limits import Limits
from gateway.config.protocols.http import HttpApi
from gateway.config.site import Device
from gateway.config.types import read_secret_file


def http_target(device: Device, settings: HttpApi, limits: Limits) -> HttpTarget:
    """Address, port (80 or 443 unless the device sets one), account, TLS, bounds."""
    default_port = 443 if settings.scheme == "https" else 80
    password = read_secret_file(settings.password_file)
    return HttpTarget(
        host=device.address,
        port=device.port or default_port,
        scheme=settings.scheme,
        user=settings.user,
        password=password.reveal(),
        verify_tls=settings.verify_tls,
        ca_file=str(settings.ca_file) if settings.ca_file else None,
        timeout=settings.timeout,
        max_bytes=limits.http_answer_bytes,
    )
