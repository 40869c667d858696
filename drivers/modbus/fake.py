"""An in-process stand-in for a Modbus bus, for unit tests of what uses the driver.

It keeps register tables per unit in dicts and answers like a device would: an
address nobody set is an "illegal data address" exception, a unit nobody set up
does not answer (a timeout). It can be told to stop answering, to answer with an
exception code, or to lose the whole bus.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence

from drivers.modbus.errors import (
    ExceptionCode,
    ModbusConnectionError,
    ModbusError,
    ModbusExceptionResponse,
    ModbusTimeout,
)
from drivers.modbus.plan import ReadPlan
from drivers.modbus.points import Point, PointValue, Table


class FakeModbusBus:
    """Implements ``drivers.modbus.base.ModbusReader`` over dicts."""

    def __init__(self, label: str = "fake modbus bus") -> None:
        self.label = label
        self.tables: dict[int, dict[Table, dict[int, int | bool]]] = {}
        self.requests: list[tuple[int, Table, int, int]] = []  # (unit, table, address, count)
        self.closed = False
        self._unit_failures: dict[int, int | None] = {}  # unit -> exception code, None: silent
        self._bus_down = False

    def set_values(
        self, unit: int, table: Table, address: int, values: Sequence[int | bool]
    ) -> None:
        """Set raw registers (16-bit ints) or bits starting at ``address``."""
        cells = self.tables.setdefault(unit, {}).setdefault(table, {})
        for i, value in enumerate(values):
            cells[address + i] = bool(value) if table.is_bits else int(value) & 0xFFFF

    def set_point(self, unit: int, point: Point, value: float) -> None:
        """Store ``value`` the way a device holds that point (inverse of decoding)."""
        encoded = [bool(value)] if point.table.is_bits else point.encode(value)
        self.set_values(unit, point.table, point.address, encoded)

    def stop_answering(self, unit: int) -> None:
        """Requests to ``unit`` time out from now on."""
        self._unit_failures[unit] = None

    def answer_exception(self, unit: int, code: int = ExceptionCode.SERVER_DEVICE_BUSY) -> None:
        """Requests to ``unit`` get a Modbus exception response from now on."""
        self._unit_failures[unit] = code

    def lose_bus(self) -> None:
        """Every request fails with ``ModbusConnectionError`` from now on."""
        self._bus_down = True

    def recover(self) -> None:
        """Undo every failure set so far."""
        self._unit_failures.clear()
        self._bus_down = False

    async def read(self, unit: int, plan: ReadPlan) -> dict[str, PointValue]:
        return await plan.run(functools.partial(self.read_block, unit))

    async def read_block(
        self, unit: int, table: Table, address: int, count: int
    ) -> list[int] | list[bool]:
        await asyncio.sleep(0)  # a real bus always yields to the loop
        self.requests.append((unit, table, address, count))
        if failure := self._failure(unit, table, address, count):
            raise failure
        cells = self.tables[unit].get(table, {})
        if any(address + i not in cells for i in range(count)):
            raise ModbusExceptionResponse(
                ExceptionCode.ILLEGAL_DATA_ADDRESS,
                unit=unit,
                table=table,
                address=address,
                count=count,
            )
        block = [cells[address + i] for i in range(count)]
        if table.is_bits:
            return [bool(bit) for bit in block]
        return [int(word) for word in block]

    async def close(self) -> None:
        self.closed = True

    def _failure(self, unit: int, table: Table, address: int, count: int) -> ModbusError | None:
        if self._bus_down:
            return ModbusConnectionError(f"{self.label}: connection lost")
        if unit in self._unit_failures:
            code = self._unit_failures[unit]
            if code is not None:
                return ModbusExceptionResponse(
                    code, unit=unit, table=table, address=address, count=count
                )
        elif unit in self.tables:
            return None
        return ModbusTimeout(f"{self.label}: no answer from unit {unit}")
