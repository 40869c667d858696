"""Which simulated devices serve an HTTP API, and the web application of each."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aiohttp import web

from simulators.fleet import Device
from simulators.http.isapi_app import isapi_app
from simulators.http.server import Account
from simulators.models.base import DeviceModel
from simulators.models.nvr import NvrModel


def http_apps(
    devices: Iterable[Device], models: Mapping[str, DeviceModel]
) -> list[tuple[str, str, int, web.Application]]:
    out: list[tuple[str, str, int, web.Application]] = []
    for device in devices:
        model = models[device.id]
        isapi = getattr(device.spec, "isapi", None)
        if isapi is not None and isinstance(model, NvrModel):
            account = Account(isapi.user, isapi.password, "DS-7716NI-K4", isapi.algorithm)
            out.append((device.id, device.address, isapi.port, isapi_app(model, account)))
    return out
