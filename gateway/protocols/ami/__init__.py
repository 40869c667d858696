"""The Asterisk Manager Interface: one manager session per PBX, its events as the push
source (docs/ami.md). The driver's modules are loaded when a device speaks AMI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.config.protocols.ami import AMI
from gateway.protocols.base import ProtocolEntry, PushSource

if TYPE_CHECKING:
    from gateway.config.load import LoadedConfig
    from gateway.protocols.ami.driver import AmiShared


def open_driver(config: LoadedConfig) -> AmiShared:
    from gateway.protocols.ami.driver import AmiShared

    return AmiShared(config)


def driver_push(driver: AmiShared) -> PushSource | None:
    return driver.push_source()


ENTRY = ProtocolEntry(AMI, open_driver=open_driver, driver_push=driver_push)

__all__ = ["ENTRY"]
