"""Typed model of a device profile: what to poll on a device family and how to judge it.

A profile is data (config/profiles/<id>.yaml). The reference for writing one is
docs/profiles.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Self

from pydantic import BaseModel, Field, field_validator, model_validator

from gateway.config.match import MatchRule
from gateway.config.meanings import Meaning
from gateway.config.protocols import SCHEMAS, ProtocolSchema
from gateway.config.protocols.base import flat_fields, part_of, with_fields
from gateway.config.protocols.snmp import NUMERIC_OID
from gateway.config.rules import Rule  # the rule models live there
from gateway.config.site import DeviceKind
from gateway.config.types import Strict

_NAME = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"


def _known(value: str | None) -> str | None:
    if value is not None and value not in SCHEMAS:
        raise ValueError(f"unknown protocol {value!r} (one of: {', '.join(SCHEMAS)})")
    return value


class _Point(Strict):
    """One value read from the device: a scalar, or a column of a table.

    Where it is on the wire is given by its protocol's fields (an SNMP ``oid``; a
    Modbus ``table`` and ``address``), added from gateway/config/protocols/. A scalar
    is read over the profile's ``protocol`` unless it names another (``protocol:``).
    """

    protocol: str | None = None  # another protocol than the profile's (scalars only)
    type: str = "int"
    unit: str = ""
    scale: float | None = None
    offset: float | None = None
    states: dict[int, str] = Field(default_factory=dict)  # raw code -> normalized state
    bits: dict[Annotated[int, Field(ge=0, le=15)], Annotated[str, Field(pattern=_NAME)]] = Field(
        default_factory=dict
    )
    rate: bool = False  # counters: also yield "<point>.rate", per second
    meaning: Meaning | None = None  # what the value (a rate: its rate) means to the gateway
    meanings: dict[Annotated[str, Field(pattern=_NAME)], Meaning] = Field(
        default_factory=dict
    )  # bit name -> what that bit means

    _protocol = field_validator("protocol")(_known)

    @model_validator(mode="after")
    def _consistent(self) -> _Point:
        if not _one_protocol(self, "points"):
            raise ValueError(f"a point is of one protocol: {_owners('points')}")
        if self.bits and self.type != "bitfield":
            raise ValueError("bits are for bitfield points")
        if self.rate and self.type not in ("counter32", "counter64"):
            raise ValueError("rate is for counter32 and counter64 points")
        return self


class _Table(Strict):
    """Rows of the same columns: ports, disks, camera channels, trunks, zones.

    SNMP: the columns are walked together; an instance is the OID index after the
    column. Modbus: ``count`` blocks (or as many as the point ``count_point`` says)
    of ``stride`` registers from ``base``; instance N (from 1) starts at
    ``base + (N - 1) * stride`` and a column's ``address`` is its offset in a block.
    Those fields are the protocol's, added from gateway/config/protocols/.
    """

    protocol: str | None = None  # another protocol than the profile's, for every column
    instance: Annotated[str, Field(pattern=r"^[a-z][a-z_]*$")]  # port, disk, zone...
    label: str | None = None  # a column that names the instance (e.g. ifName)
    columns: dict[Annotated[str, Field(pattern=_NAME)], Point] = Field(min_length=1)

    _protocol = field_validator("protocol")(_known)

    @model_validator(mode="after")
    def _label_is_a_column(self) -> _Table:
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
        if not NUMERIC_OID.match(value):
            raise ValueError(f"not a numeric OID: {value!r}")
        return value


class _Profile(Strict):
    """A device family's profile. A protocol's own section (``modbus:``) is a field
    named after it, added from gateway/config/protocols/."""

    id: str
    description: str
    kinds: list[DeviceKind] = Field(min_length=1)
    protocol: str
    points: dict[Annotated[str, Field(pattern=_NAME)], Point] = Field(default_factory=dict)
    tables: dict[Annotated[str, Field(pattern=_NAME)], Table] = Field(default_factory=dict)
    traps: dict[Annotated[str, Field(pattern=_NAME)], TrapDef] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    match: list[MatchRule] = Field(default_factory=list)  # how `lvgw discover` knows it

    @property
    def protocols(self) -> tuple[str, ...]:
        """The protocols its points are read over: ``protocol`` first, then those its
        points and tables name, in order."""
        named = [p.protocol for p in self.points.values()]
        named += [t.protocol for t in self.tables.values()]
        return tuple(dict.fromkeys([self.protocol, *(p for p in named if p)]))

    def protocol_of(self, part: Point | Table) -> str:
        """The protocol a scalar or a table is read over."""
        return part.protocol or self.protocol

    def for_protocol(self, protocol: str) -> Profile:
        """This profile with only the points and tables read over ``protocol`` (which
        becomes its ``protocol``): what that protocol's reader reads."""
        return self.model_copy(
            update={
                "protocol": protocol,
                "points": {n: p for n, p in self.points.items() if self.protocol_of(p) == protocol},
                "tables": {n: t for n, t in self.tables.items() if self.protocol_of(t) == protocol},
            }
        )

    def protocol_readings(self) -> frozenset[str]:
        """The readings its protocols' readers yield besides its points (``access``)."""
        return frozenset().union(*(SCHEMAS[p].readings for p in self.protocols))

    def point_names(self) -> set[str]:
        """Every reading name the profile's points, tables and traps can produce."""
        names = set(self.points) | self.protocol_readings()
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

    @field_validator("protocol")
    @classmethod
    def _known_protocol(cls, value: str) -> str:
        _known(value)
        return value

    @model_validator(mode="after")
    def _unique_rule_codes(self) -> _Profile:
        codes = [rule.code for rule in self.rules]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"rule codes must be unique: {', '.join(duplicates)}")
        return self

    def in_locale(self, locale: str) -> Self:
        """This profile with its rules' titles in ``locale`` (docs/languages.md): what
        a site of that language raises its conditions with."""
        return self.model_copy(update={"rules": [rule.in_locale(locale) for rule in self.rules]})

    def match_kind(self, rule: MatchRule) -> DeviceKind:
        """The kind of a device recognised by one of the profile's match rules."""
        return rule.kind or self.kinds[0]


Kind = Literal["points", "tables"]


def _fields(schema: ProtocolSchema, kind: Kind) -> frozenset[str]:
    return schema.point_fields() if kind == "points" else schema.table_fields()


def _set_fields(model: BaseModel, fields: frozenset[str]) -> set[str]:
    """Which of ``fields`` ``model`` has away from their defaults (given in the file)."""
    return {f for f in fields if getattr(model, f) != type(model).model_fields[f].default}


def _one_protocol(model: BaseModel, kind: Kind) -> bool:
    """Whether the protocol fields ``model`` has all belong to one protocol."""
    every = frozenset().union(*(_fields(s, kind) for s in SCHEMAS.values()))
    have = _set_fields(model, every)
    return not have or any(have <= _fields(s, kind) for s in SCHEMAS.values())


def _owners(kind: Kind) -> str:
    """Who owns which fields: SNMP (oid), Modbus (table, address, order) or ..."""
    titles: dict[type[Strict], list[str]] = {}  # protocols that share their fields, together
    for schema in SCHEMAS.values():
        part = schema.point if kind == "points" else schema.table
        if part is not None:
            titles.setdefault(part, []).append(schema.title)
    owned = [f"{' and '.join(t)} ({', '.join(part.model_fields)})" for part, t in titles.items()]
    return ", ".join(owned[:-1]) + " or " + owned[-1] if len(owned) > 1 else "".join(owned)


def _foreign(model: BaseModel, schema: ProtocolSchema, kind: Kind) -> str | None:
    """The fields of other protocols that ``model`` has, as a problem, or None."""
    for other in SCHEMAS.values():
        extra = sorted(_set_fields(model, _fields(other, kind) - _fields(schema, kind)))
        if extra:
            verb = "is" if len(extra) == 1 else "are"
            return f"{' and '.join(extra)} {verb} for {other.title} {kind}"
    return None


def _article(title: str) -> str:
    """The article before a protocol's name; an acronym is read letter by letter."""
    sounds_vowel = title[0] in "AEFHILMNORSX" if title.isupper() else title[0] in "AEIOU"
    return "an" if sounds_vowel else "a"


def _point_problem(point: Point, schema: ProtocolSchema, scalar: bool = False) -> str | None:
    """Why ``point`` (a scalar: outside a table) does not fit its protocol, or None."""
    part = part_of(point, schema.point) if schema.point else None
    why = schema.check_point(part) if part is not None else None
    if not why and scalar and part is not None:
        why = schema.check_scalar(part)
    if why:
        return why
    if point.type not in schema.point_types:
        types = ", ".join(sorted(schema.point_types))
        return f"type {point.type!r} is not {_article(schema.title)} {schema.title} type ({types})"
    why = schema.check_type(point.type, part) if part is not None else None
    return why or _foreign(point, schema, "points")


def match_problems(profile: Profile) -> list[tuple[tuple[str | int, ...], str]]:
    """Match rules whose kind is missing (a profile for several kinds) or not the
    profile's, with where they are."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    kinds = ", ".join(k.value for k in profile.kinds)
    for i, rule in enumerate(profile.match):
        if rule.kind is None and len(profile.kinds) > 1:
            problems.append((("match", i), f"match rule: the profile is for {kinds}: give kind"))
        elif rule.kind is not None and rule.kind not in profile.kinds:
            why = f"match rule: kind {rule.kind.value} is not one of the profile's ({kinds})"
            problems.append((("match", i, "kind"), why))
    return problems


def protocol_problems(profile: Profile) -> list[tuple[tuple[str | int, ...], str]]:
    """Points and tables that do not fit the protocol they are read over (the
    profile's, or the one they name), with where they are."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for name, point in profile.points.items():
        why = _point_problem(point, SCHEMAS[profile.protocol_of(point)], scalar=True)
        if why:
            problems.append((("points", name), f"point {name}: {why}"))
    for table_name, table in profile.tables.items():
        at: tuple[str | int, ...] = ("tables", table_name)
        schema = SCHEMAS[profile.protocol_of(table)]
        for name, point in table.columns.items():
            why = _point_problem(point, schema)
            if point.protocol is not None:
                why = "a column is read over its table's protocol: give protocol on the table"
            if why:
                problems.append(((*at, "columns", name), f"column {table_name}.{name}: {why}"))
        foreign = _foreign(table, schema, "tables")
        if foreign:
            problems.append((at, f"table {table_name}: {foreign}"))
        elif schema.table is not None:
            blocks = part_of(table, schema.table)
            problems += schema.check_table(blocks, table_name, profile.points)
    return problems


# mypy sees the common fields; what pydantic validates has the protocols' fields and
# sections too, read through their schemas' accessors (snmp_point(point), ...).
if TYPE_CHECKING:
    Point = _Point
    Table = _Table
    Profile = _Profile
else:
    Point = with_fields("Point", _Point, flat_fields(s.point for s in SCHEMAS.values()))
    Table = with_fields("Table", _Table, flat_fields(s.table for s in SCHEMAS.values()))
    Profile = with_fields(
        "Profile",
        _Profile,
        {s.name: (s.profile, s.profile()) for s in SCHEMAS.values() if s.profile},
    )
