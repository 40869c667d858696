"""Which simulated devices serve an HTTP API, and the web application of each."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo

from aiohttp import web

from simulators.fleet import Device
from simulators.http.dahua import serial
from simulators.http.dahua_app import dahua_app
from simulators.http.isapi_app import isapi_app
from simulators.http.server import Account
from simulators.models.base import DeviceModel
from simulators.models.nvr import NvrModel


def http_apps(
    devices: Iterable[Device], models: Mapping[str, DeviceModel], timezone: str | None = None
) -> list[tuple[str, str, int, web.Application]]:
    """The apps of the devices that serve an HTTP API; ``timezone`` (the site's) is the
    zone of the wall clocks an API gives without an offset (Dahua's)."""
    zone = ZoneInfo(timezone or "UTC")
    out: list[tuple[str, str, int, web.Application]] = []
    for device in devices:
        model = models[device.id]
        if not isinstance(model, NvrModel):
            continue
        isapi = getattr(device.spec, "isapi", None)
        if isapi is not None:
            account = Account(isapi.user, isapi.password, "DS-7716NI-K4", isapi.algorithm)
            out.append((device.id, device.address, isapi.port, isapi_app(model, account)))
        api = getattr(device.spec, "dahua", None)
        if api is not None:
            realm = f"Login to {serial(model)}"
            account = Account(api.user, api.password, realm, api.algorithm)
            out.append((device.id, device.address, api.port, dahua_app(model, account, zone)))
    return out
