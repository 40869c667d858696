"""Modbus TCP and RTU: one bus per TCP gateway or serial line; no push source. The
driver (and pymodbus) is loaded when a device speaks Modbus."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.config.protocols.modbus import MODBUS
from gateway.protocols.base import ProtocolEntry

if TYPE_CHECKING:
    from gateway.config.load import LoadedConfig
    from gateway.protocols.modbus.buses import ModbusBuses


def open_driver(config: LoadedConfig) -> ModbusBuses:
    from gateway.protocols.modbus.buses import ModbusBuses

    return ModbusBuses(config)


ENTRY = ProtocolEntry(MODBUS, open_driver=open_driver)

__all__ = ["ENTRY"]
