"""The Modbus driver interface: what a poller needs of a bus.

Addresses cross this boundary as 0-based protocol addresses (0-65535) together with
the table they belong to; the 1-based "register numbers" (40001...) are a profile
concern, converted before a point reaches the driver. Errors are the tree in
``drivers.modbus.errors``.
"""

from __future__ import annotations

from typing import Protocol

from drivers.modbus.plan import ReadPlan
from drivers.modbus.points import PointValue, Table


class ModbusReader(Protocol):
    """What a poller needs of a Modbus bus (a TCP gateway or a serial line).

    One bus serves several unit ids; an implementation serializes requests so that
    the reads of one unit never interleave with another's.
    """

    async def read(self, unit: int, plan: ReadPlan) -> dict[str, PointValue]:
        """Run every request of the plan for one unit and decode the points.

        Raises a ``ModbusError`` at the first request that fails.
        """
        ...

    async def read_block(
        self, unit: int, table: Table, address: int, count: int
    ) -> list[int] | list[bool]:
        """Read ``count`` raw registers (as 16-bit ints) or bits (as bools)."""
        ...

    async def close(self) -> None: ...
