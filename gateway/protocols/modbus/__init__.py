"""Modbus TCP and RTU: one bus per TCP gateway or serial line; no push source."""

from gateway.protocols.base import ProtocolEntry
from gateway.protocols.modbus.buses import ModbusBuses

ENTRY = ProtocolEntry("modbus", open_driver=ModbusBuses)

__all__ = ["ENTRY"]
