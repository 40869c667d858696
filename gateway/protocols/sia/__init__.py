"""SIA DC-09: a receiver for the site's alarm panels, their events as readings. The
driver's modules are loaded when a device speaks SIA."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.config.protocols.sia import SIA
from gateway.protocols.base import ProtocolEntry, PushSource

if TYPE_CHECKING:
    from gateway.config.load import LoadedConfig
    from gateway.protocols.sia.driver import SiaShared


def open_driver(config: LoadedConfig) -> SiaShared:
    from gateway.protocols.sia.driver import SiaShared

    return SiaShared(config)


def driver_push(driver: SiaShared) -> PushSource | None:
    return driver.push_source()


ENTRY = ProtocolEntry(SIA, open_driver=open_driver, driver_push=driver_push)

__all__ = ["ENTRY"]
