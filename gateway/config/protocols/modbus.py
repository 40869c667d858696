"""Modbus in the site file (a device's ``modbus:``) and in profiles (the profile's
``modbus:`` request limits, a point's ``table``/``address``/``order``, a repeated
table's ``base``/``count``/``stride``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from gateway.config.protocols.base import Problem, ProtocolSchema, part_of, section_of
from gateway.config.types import Duration, Strict


class Modbus(Strict):
    """A device's ``modbus:`` section: unit id and the line it is on."""

    unit: Annotated[int, Field(ge=0, le=255)] = 1
    transport: Literal["tcp", "rtu"] = "tcp"
    serial_port: str | None = None
    baudrate: int = 9600
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    timeout: Duration = 1.0

    @model_validator(mode="after")
    def _rtu_needs_port(self) -> Modbus:
        if self.transport == "rtu" and not self.serial_port:
            raise ValueError("transport rtu needs serial_port")
        return self


class ModbusOptions(Strict):
    """A profile's ``modbus:`` section: how requests may be merged."""

    max_registers: Annotated[int, Field(ge=1, le=125)] = 125
    max_gap: Annotated[int, Field(ge=0, le=100)] = 0  # unused registers one request may span


ModbusTable = Literal["coil", "discrete_input", "holding", "input"]
ModbusType = Literal["bool", "int16", "uint16", "int32", "uint32", "float32", "bitfield"]


class ModbusPoint(Strict):
    """Where a Modbus point is: its ``table`` and 0-based protocol ``address`` (in a
    repeated table, the offset within one block), and the word order of a value that
    spans registers."""

    table: ModbusTable | None = None
    address: Annotated[int, Field(ge=0, le=65535)] | None = None
    order: Literal["ABCD", "CDAB", "BADC", "DCBA", "AB", "BA"] | None = None


class ModbusBlocks(Strict):
    """Where a repeated Modbus table is: ``count`` blocks (or as many as the point
    ``count_point`` says) of ``stride`` registers from ``base``; instance N (from 1)
    starts at ``base + (N - 1) * stride``."""

    count: Annotated[int, Field(ge=1, le=4096)] | None = None
    count_point: str | None = None
    base: Annotated[int, Field(ge=0, le=65535)] | None = None
    stride: Annotated[int, Field(ge=1, le=125)] = 1


def _check_point(point: ModbusPoint) -> str | None:
    if point.table is None or point.address is None:
        return "a Modbus point needs a table and an address"
    return None


def _check_table(blocks: ModbusBlocks, name: str, points: Iterable[str]) -> list[Problem]:
    at: tuple[str | int, ...] = ("tables", name)
    if blocks.base is None or (blocks.count is None) == (blocks.count_point is None):
        return [(at, f"table {name}: a Modbus table needs base and one of count, count_point")]
    if blocks.count_point is not None and blocks.count_point not in points:
        return [((*at, "count_point"), f"table {name}: no point {blocks.count_point!r}")]
    return []


MODBUS = ProtocolSchema(
    name="modbus",
    title="Modbus",
    device=Modbus,
    profile=ModbusOptions,
    point=ModbusPoint,
    point_types=frozenset(ModbusType.__args__),  # type: ignore[attr-defined]
    table=ModbusBlocks,
    check_point=_check_point,
    check_table=_check_table,
)


def modbus_settings(device: BaseModel) -> Modbus | None:
    """A device's ``modbus:`` section, None when it has none (the defaults apply)."""
    return section_of(device, MODBUS.name, Modbus)


def modbus_options(profile: BaseModel) -> ModbusOptions:
    """A profile's ``modbus:`` section (its defaults when the profile has none)."""
    return section_of(profile, MODBUS.name, ModbusOptions) or ModbusOptions()


def modbus_point(point: BaseModel) -> ModbusPoint:
    """The Modbus address of a profile point or table column."""
    return part_of(point, ModbusPoint)


def modbus_blocks(table: BaseModel) -> ModbusBlocks:
    """Where the blocks of a repeated Modbus table are."""
    return part_of(table, ModbusBlocks)
