"""Hikvision ISAPI: HTTP(S) with digest authentication; the alertStream as push source.
The driver and its HTTP client (aiohttp) are loaded when a device speaks ISAPI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.config.protocols.isapi import ISAPI
from gateway.protocols.base import ProtocolEntry, PushSource, site_speaks

if TYPE_CHECKING:
    from gateway.config.load import LoadedConfig
    from gateway.protocols.isapi.driver import IsapiShared


def open_driver(config: LoadedConfig) -> IsapiShared:
    from gateway.protocols.isapi.driver import IsapiShared

    return IsapiShared(config)


def push_source(config: LoadedConfig) -> PushSource | None:
    if not site_speaks(config, ISAPI.name):
        return None
    from gateway.protocols.isapi.events import isapi_event_source

    return isapi_event_source(config)


ENTRY = ProtocolEntry(ISAPI, open_driver=open_driver, push_source=push_source)

__all__ = ["ENTRY"]
