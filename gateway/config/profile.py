"""Typed model of a device profile: what to poll on a device family and how to judge it.

A profile is data (config/profiles/<id>.yaml). The reference for writing one is
docs/profiles.md.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gateway.config.site import DeviceKind
from gateway.model import Level

_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")
_NAME = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


PointType = Literal["int", "float", "text", "timeticks", "counter", "enum", "bool"]


class Point(Strict):
    """One value read from the device (a scalar, or a column of a table)."""

    oid: str
    type: PointType = "int"
    unit: str = ""
    scale: float = 1.0
    states: dict[int, str] = Field(default_factory=dict)  # raw code -> normalized state

    @field_validator("oid")
    @classmethod
    def _numeric_oid(cls, value: str) -> str:
        value = value.removeprefix(".")
        if not _OID.match(value):
            raise ValueError(f"not a numeric OID: {value!r} (resolve names ahead of time)")
        return value

    @model_validator(mode="after")
    def _enum_has_states(self) -> Point:
        if self.type == "enum" and not self.states:
            raise ValueError("an enum point needs its states map (raw code -> state name)")
        return self


class UnreachableRule(Strict):
    """The device did not answer `raise_after` polls in a row; clears after `clear_after` good."""

    type: Literal["unreachable"]
    code: Annotated[str, Field(pattern=_NAME)]
    title: str
    level: Level
    level_by_role: dict[str, Level] = Field(default_factory=dict)
    raise_after: Annotated[int, Field(ge=1, le=100)] = 3
    clear_after: Annotated[int, Field(ge=1, le=100)] = 2

    def level_for(self, role: str | None) -> Level:
        return self.level_by_role.get(role or "", self.level)


Rule = Annotated[UnreachableRule, Field(discriminator="type")]


class Profile(Strict):
    id: str
    description: str
    kinds: list[DeviceKind] = Field(min_length=1)
    protocol: Literal["snmp", "modbus"]
    points: dict[Annotated[str, Field(pattern=_NAME)], Point] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_rule_codes(self) -> Profile:
        codes = [rule.code for rule in self.rules]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"rule codes must be unique: {', '.join(duplicates)}")
        return self
