"""Modbus TCP and RTU: one bus per TCP gateway or serial line; no push source."""

from gateway.config.protocols.modbus import MODBUS
from gateway.protocols.base import ProtocolEntry
from gateway.protocols.modbus.buses import ModbusBuses

ENTRY = ProtocolEntry(MODBUS, open_driver=ModbusBuses)

__all__ = ["ENTRY"]
