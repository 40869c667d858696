"""The Modbus driver's error tree.

Errors form a small tree, converted at the driver boundary (``raise ... from exc``):

``ModbusError``
    ``ModbusTimeout``
        No answer within the request timeout. The connection is kept: on a serial
        line another unit may answer the next request, and on TCP a late answer is
        discarded by its transaction id. A TCP bus drops its connection only after
        several timeouts in a row (a half-open connection looks exactly like that).
    ``ModbusConnectionError``
        The bus itself failed: connection refused or closed, serial port missing,
        I/O error. The bus reconnects on a later request, spaced by a capped
        exponential backoff with jitter that resets on the first good answer; a
        request made while backing off fails at once with this error.
    ``ModbusExceptionResponse``
        The device answered with a Modbus exception (codes 1..11): the line and the
        device are fine, the request was refused. Carries ``code`` and ``name``. The
        connection is kept; retrying later makes sense for codes 5 and 6 (the device
        is busy), 10 and 11 mean a gateway could not reach the unit behind it.
    ``ModbusProtocolError``
        An answer that does not fit the request (too few values).
"""

from __future__ import annotations

import enum

from drivers.modbus.points import Table


class ModbusError(Exception):
    """Any failure to get values from a Modbus device."""


class ModbusTimeout(ModbusError):
    """No answer within the request timeout."""


class ModbusConnectionError(ModbusError):
    """The TCP connection or the serial port failed, or is backing off after a failure."""


class ModbusProtocolError(ModbusError):
    """An answer that does not fit the request."""


class ExceptionCode(enum.IntEnum):
    """Modbus exception codes (Modbus Application Protocol V1.1b3, section 7)."""

    ILLEGAL_FUNCTION = 1
    ILLEGAL_DATA_ADDRESS = 2
    ILLEGAL_DATA_VALUE = 3
    SERVER_DEVICE_FAILURE = 4
    ACKNOWLEDGE = 5
    SERVER_DEVICE_BUSY = 6
    NEGATIVE_ACKNOWLEDGE = 7
    MEMORY_PARITY_ERROR = 8
    GATEWAY_PATH_UNAVAILABLE = 10
    GATEWAY_TARGET_DEVICE_FAILED_TO_RESPOND = 11


class ModbusExceptionResponse(ModbusError):
    """The device answered a request with a Modbus exception code."""

    def __init__(self, code: int, *, unit: int, table: Table, address: int, count: int) -> None:
        self.code = code
        self.unit = unit
        self.table = table
        self.address = address
        self.count = count
        super().__init__(
            f"unit {unit} answered {table.value} {address}+{count} "
            f"with exception {code} ({self.name})"
        )

    @property
    def name(self) -> str:
        """The code's name from the specification, or UNKNOWN_<code>."""
        try:
            return ExceptionCode(self.code).name
        except ValueError:
            return f"UNKNOWN_{self.code}"
