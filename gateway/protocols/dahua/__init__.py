"""The Dahua HTTP API (CGI): HTTP(S) with digest authentication, ``key=value``
answers; the eventManager attach stream as push source."""

from gateway.config.load import LoadedConfig
from gateway.config.protocols.dahua import DAHUA, dahua_settings
from gateway.protocols.base import ProtocolEntry
from gateway.protocols.dahua.dialect import DahuaDialect
from gateway.protocols.dahua.events import dahua_event_source
from gateway.protocols.http.driver import HttpShared


def open_driver(config: LoadedConfig) -> HttpShared:
    """Its times are the recorder's wall clock: read in the site's time zone."""
    return HttpShared(config, DAHUA.name, dahua_settings, DahuaDialect, local_time=True)


ENTRY = ProtocolEntry(DAHUA, open_driver=open_driver, push_source=dahua_event_source)

__all__ = ["ENTRY"]
