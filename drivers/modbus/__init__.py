"""Modbus driver: points as data, merged read plans, TCP and RTU buses, converted errors.

The buses (``drivers.modbus.bus``: ``ModbusBus``, ``BusStats``) are imported from their
module: they need pymodbus, which the rest (points, plans, errors, the fake bus) does
not, and which a site without Modbus devices never loads. See docs/modbus-driver.md.
"""

from drivers.modbus.base import ModbusReader
from drivers.modbus.errors import (
    ExceptionCode,
    ModbusConnectionError,
    ModbusError,
    ModbusExceptionResponse,
    ModbusProtocolError,
    ModbusTimeout,
)
from drivers.modbus.fake import FakeModbusBus
from drivers.modbus.plan import MAX_READ_BITS, MAX_READ_REGISTERS, ReadPlan, ReadRequest, plan_reads
from drivers.modbus.points import (
    Bitfield,
    DataType,
    InvalidPointError,
    Point,
    PointValue,
    Table,
    define_point,
)

__all__ = [
    "MAX_READ_BITS",
    "MAX_READ_REGISTERS",
    "Bitfield",
    "DataType",
    "ExceptionCode",
    "FakeModbusBus",
    "InvalidPointError",
    "ModbusConnectionError",
    "ModbusError",
    "ModbusExceptionResponse",
    "ModbusProtocolError",
    "ModbusReader",
    "ModbusTimeout",
    "Point",
    "PointValue",
    "ReadPlan",
    "ReadRequest",
    "Table",
    "define_point",
    "plan_reads",
]
