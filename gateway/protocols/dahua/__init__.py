"""The Dahua HTTP API (CGI): HTTP(S) with digest authentication, ``key=value``
answers; the eventManager attach stream as push source. The driver and its HTTP client
(aiohttp) are loaded when a device speaks it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.config.protocols.dahua import DAHUA, dahua_settings
from gateway.protocols.base import ProtocolEntry, PushSource, site_speaks

if TYPE_CHECKING:
    from gateway.config.load import LoadedConfig
    from gateway.protocols.http.driver import HttpShared


def open_driver(config: LoadedConfig) -> HttpShared:
    """Its times are the recorder's wall clock: read in the site's time zone."""
    from gateway.protocols.dahua.dialect import DahuaDialect
    from gateway.protocols.http.driver import HttpShared

    return HttpShared(config, DAHUA.name, dahua_settings, DahuaDialect, local_time=True)


def push_source(config: LoadedConfig) -> PushSource | None:
    if not site_speaks(config, DAHUA.name):
        return None
    from gateway.protocols.dahua.events import dahua_event_source

    return dahua_event_source(config)


ENTRY = ProtocolEntry(DAHUA, open_driver=open_driver, push_source=push_source)

__all__ = ["ENTRY"]
