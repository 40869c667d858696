"""Typed model of a device profile: what to poll on a device family and how to judge it.

A profile is data (config/profiles/<id>.yaml). The reference for writing one is
docs/profiles.md.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.config.rules import Rule  # the rule models live there
from gateway.config.site import DeviceKind

_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")
_NAME = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


SnmpType = Literal[
    "int", "gauge", "counter32", "counter64", "timeticks", "text", "oid", "dateandtime"
]
ModbusType = Literal["bool", "int16", "uint16", "int32", "uint32", "float32", "bitfield"]
ModbusTable = Literal["coil", "discrete_input", "holding", "input"]
SNMP_TYPES: frozenset[str] = frozenset(SnmpType.__args__)  # type: ignore[attr-defined]
MODBUS_TYPES: frozenset[str] = frozenset(ModbusType.__args__)  # type: ignore[attr-defined]


class Point(Strict):
    """One value read from the device: a scalar, or a column of a table.

    SNMP points name an ``oid``; Modbus points a ``table`` and an ``address``
    (0-based protocol address; in a repeated table, the offset within one block).
    """

    oid: str | None = None
    table: ModbusTable | None = None
    address: Annotated[int, Field(ge=0, le=65535)] | None = None
    order: Literal["ABCD", "CDAB", "BADC", "DCBA", "AB", "BA"] | None = None
    type: str = "int"
    unit: str = ""
    scale: float | None = None
    offset: float | None = None
    states: dict[int, str] = Field(default_factory=dict)  # raw code -> normalized state
    bits: dict[Annotated[int, Field(ge=0, le=15)], Annotated[str, Field(pattern=_NAME)]] = Field(
        default_factory=dict
    )
    rate: bool = False  # counters: also yield "<point>.rate", per second

    @field_validator("oid")
    @classmethod
    def _numeric_oid(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.removeprefix(".")
        if not _OID.match(value):
            raise ValueError(f"not a numeric OID: {value!r} (resolve names ahead of time)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Point:
        if self.oid is not None and (self.table is not None or self.address is not None):
            raise ValueError("a point is either SNMP (oid) or Modbus (table, address), not both")
        if self.bits and self.type != "bitfield":
            raise ValueError("bits are for bitfield points")
        if self.rate and self.type not in ("counter32", "counter64"):
            raise ValueError("rate is for counter32 and counter64 points")
        return self

    def check_protocol(self, protocol: str) -> str | None:
        """Why this point does not fit the profile's protocol, or None."""
        if protocol == "snmp":
            if self.oid is None:
                return "an SNMP point needs an oid"
            if self.type not in SNMP_TYPES:
                return f"type {self.type!r} is not an SNMP type ({', '.join(sorted(SNMP_TYPES))})"
            if self.order is not None:
                return "order is for Modbus points"
        else:
            if self.table is None or self.address is None:
                return "a Modbus point needs a table and an address"
            if self.type not in MODBUS_TYPES:
                return (
                    f"type {self.type!r} is not a Modbus type ({', '.join(sorted(MODBUS_TYPES))})"
                )
        return None


class Table(Strict):
    """Rows of the same columns: ports, disks, camera channels, trunks, zones.

    SNMP: the columns are walked together; an instance is the OID index after the
    column. Modbus: ``count`` blocks (or as many as the point ``count_point`` says)
    of ``stride`` registers from ``base``; instance N (from 1) starts at
    ``base + (N - 1) * stride`` and a column's ``address`` is its offset in a block.
    """

    instance: Annotated[str, Field(pattern=r"^[a-z][a-z_]*$")]  # port, disk, zone...
    label: str | None = None  # a column that names the instance (e.g. ifName)
    columns: dict[Annotated[str, Field(pattern=_NAME)], Point] = Field(min_length=1)
    count: Annotated[int, Field(ge=1, le=4096)] | None = None
    count_point: str | None = None
    base: Annotated[int, Field(ge=0, le=65535)] | None = None
    stride: Annotated[int, Field(ge=1, le=125)] = 1

    @model_validator(mode="after")
    def _label_is_a_column(self) -> Table:
        if self.label is not None and self.label not in self.columns:
            raise ValueError(f"label {self.label!r} is not one of the columns")
        return self


class TrapDef(Strict):
    """An SNMP notification the device sends, turned into a reading ``trap.<name>``.

    ``instance_from`` names the varbind (numeric OID prefix) whose value is the
    instance, e.g. ifIndex for linkDown. ``values`` copies varbinds into readings
    ``trap.<name>.<key>`` (key -> OID prefix of the varbind).
    """

    oid: str
    instance_from: str | None = None
    values: dict[Annotated[str, Field(pattern=_NAME)], str] = Field(default_factory=dict)
    poll: bool = True  # poll the device at once, so its state is read without waiting

    @field_validator("oid", "instance_from")
    @classmethod
    def _numeric(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.removeprefix(".")
        if not _OID.match(value):
            raise ValueError(f"not a numeric OID: {value!r}")
        return value


class ModbusOptions(Strict):
    max_registers: Annotated[int, Field(ge=1, le=125)] = 125
    max_gap: Annotated[int, Field(ge=0, le=100)] = 0  # unused registers one request may span


class Profile(Strict):
    id: str
    description: str
    kinds: list[DeviceKind] = Field(min_length=1)
    protocol: Literal["snmp", "modbus"]
    modbus: ModbusOptions = ModbusOptions()
    points: dict[Annotated[str, Field(pattern=_NAME)], Point] = Field(default_factory=dict)
    tables: dict[Annotated[str, Field(pattern=_NAME)], Table] = Field(default_factory=dict)
    traps: dict[Annotated[str, Field(pattern=_NAME)], TrapDef] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)

    def point_names(self) -> set[str]:
        """Every reading name the profile's points, tables and traps can produce."""
        names = set(self.points)
        for trap_name, trap in self.traps.items():
            names.add(f"trap.{trap_name}")
            names.update(f"trap.{trap_name}.{key}" for key in trap.values)
        for name, point in self.points.items():
            names.update(f"{name}.{bit}" for bit in point.bits.values())
            if point.rate:
                names.add(f"{name}.rate")
        for table_name, table in self.tables.items():
            for column, point in table.columns.items():
                names.add(f"{table_name}.{column}")
                names.update(f"{table_name}.{column}.{bit}" for bit in point.bits.values())
                if point.rate:
                    names.add(f"{table_name}.{column}.rate")
        return names

    @model_validator(mode="after")
    def _unique_rule_codes(self) -> Profile:
        codes = [rule.code for rule in self.rules]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"rule codes must be unique: {', '.join(duplicates)}")
        return self


def protocol_problems(profile: Profile) -> list[tuple[tuple[str | int, ...], str]]:
    """Points that do not fit the profile's protocol, with where they are in the file."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for name, point in profile.points.items():
        why = point.check_protocol(profile.protocol)
        if why:
            problems.append((("points", name), f"point {name}: {why}"))
    for table_name, table in profile.tables.items():
        at: tuple[str | int, ...] = ("tables", table_name)
        for name, point in table.columns.items():
            why = point.check_protocol(profile.protocol)
            if why:
                problems.append(((*at, "columns", name), f"column {table_name}.{name}: {why}"))
        modbus_shape = table.base is not None or table.count is not None or table.count_point
        if profile.protocol == "snmp":
            if modbus_shape:
                problems.append((at, f"table {table_name}: base and count are for Modbus tables"))
        elif table.base is None or (table.count is None) == (table.count_point is None):
            problems.append(
                (at, f"table {table_name}: a Modbus table needs base and one of count, count_point")
            )
        elif table.count_point is not None and table.count_point not in profile.points:
            problems.append(
                ((*at, "count_point"), f"table {table_name}: no point {table.count_point!r}")
            )
    return problems
