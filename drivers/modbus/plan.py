"""Plan the requests that read a set of points, and decode their answers.

Points of the same table that sit next to each other (or within ``max_gap``
addresses) are merged into one request, up to the protocol's limits: 125 registers
per read of holding or input registers, 2000 bits per read of coils or discrete
inputs. A plan is built once per device when its profile is loaded and reused on
every poll.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from drivers.modbus.errors import ModbusProtocolError
from drivers.modbus.points import InvalidPointError, Point, PointValue, Table

MAX_READ_REGISTERS = 125
MAX_READ_BITS = 2000


@dataclass(frozen=True, slots=True)
class ReadRequest:
    """One read request: a table, a start address, a count, and the points it carries."""

    table: Table
    address: int
    count: int
    points: tuple[Point, ...]

    def decode(self, block: Sequence[Any]) -> dict[str, PointValue]:
        """Decode the points from the answer: ``count`` registers (ints) or bits (bools).

        A longer block is fine (coils come padded to a multiple of 8); a shorter
        one is a ``ModbusProtocolError``.
        """
        if len(block) < self.count:
            raise ModbusProtocolError(
                f"{self.table.value} {self.address}+{self.count}: "
                f"answer holds only {len(block)} values"
            )
        start = self.address
        return {point.name: point.decode(block, point.address - start) for point in self.points}


@dataclass(frozen=True, slots=True)
class ReadPlan:
    """The requests that read a set of points, in table and address order."""

    requests: tuple[ReadRequest, ...]

    @property
    def points(self) -> tuple[Point, ...]:
        return tuple(point for request in self.requests for point in request.points)

    async def run(
        self, read_block: Callable[[Table, int, int], Awaitable[Sequence[Any]]]
    ) -> dict[str, PointValue]:
        """Read each request with ``read_block(table, address, count)``, decode all points."""
        values: dict[str, PointValue] = {}
        for request in self.requests:
            block = await read_block(request.table, request.address, request.count)
            values.update(request.decode(block))
        return values


def plan_reads(
    points: Iterable[Point],
    *,
    max_registers: int = MAX_READ_REGISTERS,
    max_bits: int = MAX_READ_BITS,
    max_gap: int = 0,
) -> ReadPlan:
    """Merge points into as few requests as the limits allow.

    ``max_registers`` and ``max_bits`` cap one request (some devices accept less
    than the protocol's 125 / 2000). ``max_gap`` is how many unused addresses a
    request may span to join two points (0: only adjacent or overlapping points
    share a request); a device that answers "illegal address" for the holes needs 0.
    """
    if not 1 <= max_registers <= MAX_READ_REGISTERS:
        raise InvalidPointError(f"max_registers {max_registers} is outside 1..125")
    if not 1 <= max_bits <= MAX_READ_BITS:
        raise InvalidPointError(f"max_bits {max_bits} is outside 1..2000")
    if max_gap < 0:
        raise InvalidPointError(f"max_gap {max_gap} is negative")
    by_table: dict[Table, list[Point]] = {}
    seen: set[str] = set()
    for point in points:
        if point.name in seen:
            raise InvalidPointError(f"point {point.name!r} is defined twice")
        seen.add(point.name)
        by_table.setdefault(point.table, []).append(point)
    requests: list[ReadRequest] = []
    for table in Table:  # a fixed order keeps plans stable across runs
        table_points = sorted(by_table.get(table, ()), key=lambda p: (p.address, p.count))
        limit = max_bits if table.is_bits else max_registers
        requests.extend(_merge(table, table_points, limit, max_gap))
    return ReadPlan(tuple(requests))


def _merge(table: Table, points: list[Point], limit: int, max_gap: int) -> list[ReadRequest]:
    requests: list[ReadRequest] = []
    group: list[Point] = []
    start = end = 0
    for point in points:
        if group and point.address - end <= max_gap and max(end, point.end) - start <= limit:
            group.append(point)
            end = max(end, point.end)
            continue
        if group:
            requests.append(ReadRequest(table, start, end - start, tuple(group)))
        group, start, end = [point], point.address, point.end
    if group:
        requests.append(ReadRequest(table, start, end - start, tuple(group)))
    return requests
