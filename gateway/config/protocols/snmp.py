"""SNMP in the site file (a device's ``snmp:``, the site's ``traps:``) and in profiles
(a point's ``oid``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from gateway.config.protocols.base import ProtocolSchema, part_of, section_of
from gateway.config.types import Duration, Secret, Strict

NUMERIC_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")

AuthProtocol = Literal["md5", "sha", "sha224", "sha256", "sha384", "sha512"]
PrivProtocol = Literal["des", "aes", "aes192", "aes256"]


def _keys_with_protocols(
    auth: str | None, auth_key_file: Path | None, priv: str | None, priv_key_file: Path | None
) -> None:
    if auth and not auth_key_file:
        raise ValueError("auth needs auth_key_file")
    if priv and not (auth and priv_key_file):
        raise ValueError("priv needs auth and priv_key_file")


class Snmp(Strict):
    """A device's ``snmp:`` section: version, credentials, timeout."""

    version: Literal["1", "2c", "3"] = "2c"
    community: Secret = Secret("public")
    user: str | None = None
    auth: AuthProtocol | None = None
    auth_key_file: Path | None = None
    priv: PrivProtocol | None = None
    priv_key_file: Path | None = None
    timeout: Duration = 1.0
    retries: Annotated[int, Field(ge=0, le=10)] = 1

    @model_validator(mode="before")
    @classmethod
    def _version_as_text(cls, data: object) -> object:
        # YAML reads `version: 2` or `version: 3` as numbers; accept them as the text form.
        if isinstance(data, dict) and isinstance(data.get("version"), int | float):
            data = {**data, "version": {1: "1", 2: "2c", 3: "3"}.get(int(data["version"]), "?")}
        return data

    @model_validator(mode="after")
    def _v3_needs_user(self) -> Snmp:
        if self.version == "3" and not self.user:
            raise ValueError("SNMP v3 needs a user")
        _keys_with_protocols(self.auth, self.auth_key_file, self.priv, self.priv_key_file)
        return self


class SnmpV3User(Strict):
    user: str
    auth: AuthProtocol | None = None
    auth_key_file: Path | None = None
    priv: PrivProtocol | None = None
    priv_key_file: Path | None = None
    engine_id: str | None = None

    @model_validator(mode="after")
    def _keys_with_protocols(self) -> SnmpV3User:
        _keys_with_protocols(self.auth, self.auth_key_file, self.priv, self.priv_key_file)
        return self


class Traps(Strict):
    """The site file's ``traps:`` section: the trap receiver (SNMP's push source)."""

    listen: str = "0.0.0.0:162"
    communities: list[Secret] = Field(default_factory=lambda: [Secret("public")])
    v3_users: list[SnmpV3User] = Field(default_factory=list)


def numeric_oid(value: str) -> str:
    value = value.removeprefix(".")
    if not NUMERIC_OID.match(value):
        raise ValueError(
            f"not a numeric OID: {value!r} (give one, or a name from a compiled MIB:"
            " MODULE::name, e.g. SNMPv2-MIB::sysName.0)"
        )
    return value


class SnmpPoint(Strict):
    """Where an SNMP point is: a scalar's OID (with its instance, ``.0``), or a table
    column's OID (its rows are the instances under it)."""

    oid: Annotated[str, AfterValidator(numeric_oid)] | None = None


SnmpType = Literal[
    "int", "gauge", "counter32", "counter64", "timeticks", "text", "oid", "dateandtime"
]


def _check_point(point: SnmpPoint) -> str | None:
    return "an SNMP point needs an oid" if point.oid is None else None


SNMP = ProtocolSchema(
    name="snmp",
    title="SNMP",
    device=Snmp,
    site={"traps": Traps},
    point=SnmpPoint,
    point_types=frozenset(SnmpType.__args__),  # type: ignore[attr-defined]
    check_point=_check_point,
)


def snmp_settings(device: BaseModel) -> Snmp | None:
    """A device's ``snmp:`` section, None when it has none (the defaults apply)."""
    return section_of(device, SNMP.name, Snmp)


def traps_settings(site_file: BaseModel) -> Traps | None:
    """The site file's ``traps:`` section, None when the trap receiver is off."""
    return section_of(site_file, "traps", Traps)


def snmp_point(point: BaseModel) -> SnmpPoint:
    """The SNMP address of a profile point or table column."""
    return part_of(point, SnmpPoint)
