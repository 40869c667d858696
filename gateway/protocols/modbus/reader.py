"""Poll a device's profile over Modbus: every point in as few merged requests as possible."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from datetime import UTC, datetime

from drivers.modbus import (
    Bitfield,
    ModbusError,
    ModbusExceptionResponse,
    ModbusReader,
    PointValue,
    ReadPlan,
    define_point,
    plan_reads,
)
from drivers.modbus import Point as WirePoint
from gateway.config.limits import DEFAULT_LIMITS, Limits
from gateway.config.profile import Point, Profile
from gateway.config.protocols.modbus import (
    ModbusBlocks,
    modbus_blocks,
    modbus_options,
    modbus_point,
    modbus_settings,
)
from gateway.config.site import Device
from gateway.model import Reading
from gateway.poller.decode import PointDecoder
from gateway.poller.result import PollResult

_TABLES = {
    "coil": "coil",
    "discrete_input": "discrete_input",
    "holding": "holding",
    "input": "input",
}


def _wire(name: str, point: Point, address: int) -> WirePoint:
    """The driver's point: table, address, data type and order; scaling stays ours."""
    where = modbus_point(point)
    assert where.table is not None, "checked at load"
    kind = point.type if where.table in ("holding", "input") else "bool"
    return define_point(name, _TABLES[where.table], address, kind, order=where.order)


def _address(point: Point) -> int:
    address = modbus_point(point).address
    assert address is not None, "checked at load"
    return address


class ModbusPointReader:
    """Reads one unit per poll. Tables sized by a point (``count_point``) are planned
    after that point is read, and re-planned only when the count changes; the last
    ``limits.modbus_plans`` plans are kept (a device that reports another count at
    every poll costs planning time, not memory)."""

    def __init__(
        self,
        device: Device,
        profile: Profile,
        bus: ModbusReader,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.device = device
        self.profile = profile
        self.bus = bus
        settings = modbus_settings(device)
        self.unit = settings.unit if settings else 1
        self.options = modbus_options(profile)
        self.blocks: dict[str, ModbusBlocks] = {
            name: modbus_blocks(table) for name, table in profile.tables.items()
        }
        self.decoders: dict[str, tuple[PointDecoder, str]] = {}
        fixed: list[WirePoint] = []
        for name, point in profile.points.items():
            fixed.append(_wire(name, point, _address(point)))
            self.decoders[name] = (PointDecoder(name, point), "")
        for table_name, blocks in self.blocks.items():
            if blocks.count is not None:
                fixed += self._table_points(table_name, blocks.count)
        self.plan = self._plan(fixed)
        # counts -> plan of the count_point tables, least recently used first
        self._sized: OrderedDict[tuple[tuple[str, int], ...], ReadPlan] = OrderedDict()
        self._max_plans = limits.modbus_plans
        self._max_rows = limits.modbus_table_rows  # whatever the device says its count is
        self.plans_made = 0

    def _plan(self, points: list[WirePoint]) -> ReadPlan:
        options = self.options
        return plan_reads(points, max_registers=options.max_registers, max_gap=options.max_gap)

    def _table_points(self, table_name: str, count: int) -> list[WirePoint]:
        points = []
        table, blocks = self.profile.tables[table_name], self.blocks[table_name]
        assert blocks.base is not None, "checked at load"
        for n in range(1, count + 1):
            block = blocks.base + (n - 1) * blocks.stride
            for col, point in table.columns.items():
                wire_name = f"{table_name}.{col}#{n}"
                points.append(_wire(wire_name, point, block + _address(point)))
                self.decoders[wire_name] = (PointDecoder(f"{table_name}.{col}", point), str(n))
        return points

    def _sized_plan(self, counts: dict[str, int]) -> ReadPlan | None:
        tables = {n: b.count_point for n, b in self.blocks.items() if b.count_point is not None}
        if not tables:
            return None
        key = tuple(sorted(counts.items()))
        plan = self._sized.get(key)
        if plan is not None:
            self._sized.move_to_end(key)
            return plan
        points: list[WirePoint] = []
        for table_name, count_point in tables.items():
            count = max(0, min(counts.get(count_point, 0), self._max_rows))
            points += self._table_points(table_name, count)
        plan = self._sized[key] = self._plan(points)
        self.plans_made += 1
        while len(self._sized) > self._max_plans:
            self._sized.popitem(last=False)
        return plan

    async def poll(self) -> PollResult:
        ts = datetime.now(UTC)
        started = time.monotonic()
        try:
            values = await self.bus.read(self.unit, self.plan)
            counts = {
                b.count_point: _row_count(values.get(b.count_point))
                for b in self.blocks.values()
                if b.count_point is not None
            }
            sized = self._sized_plan(counts)
            if sized is not None and sized.requests:
                values.update(await self.bus.read(self.unit, sized))
        except ModbusExceptionResponse as exc:
            # The unit answered: it is reachable, but refused what the profile asks.
            answered = (Reading(self.device.id, "reachable", True, ts),)
            return PollResult(self.device.id, ts, True, answered, f"modbus exception: {exc}")
        except ModbusError as exc:
            reading = Reading(self.device.id, "reachable", False, ts)
            return PollResult(self.device.id, ts, False, (reading,), f"{type(exc).__name__}: {exc}")
        readings = [
            Reading(self.device.id, "reachable", True, ts),
            Reading(
                self.device.id, "rtt", round((time.monotonic() - started) * 1000, 3), ts, unit="ms"
            ),
        ]
        for wire_name, raw in values.items():
            decoder, instance = self.decoders[wire_name]
            readings += decoder.readings(self.device.id, raw, ts, instance)
        return PollResult(self.device.id, ts, True, tuple(readings))


def _row_count(value: PointValue | None) -> int:
    """A table's row count from the point that holds it: 0 for what is not a count
    (a float register may hold NaN or infinity)."""
    if isinstance(value, Bitfield):
        return value.word
    number = float(value) if value is not None else 0.0
    return int(number) if math.isfinite(number) else 0
