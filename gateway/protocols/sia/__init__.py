"""SIA DC-09: a receiver for the site's alarm panels, their events as readings."""

from gateway.config.protocols.sia import SIA
from gateway.protocols.base import ProtocolEntry
from gateway.protocols.sia.driver import SiaShared

ENTRY = ProtocolEntry(SIA, open_driver=SiaShared, driver_push=SiaShared.push_source)

__all__ = ["ENTRY"]
