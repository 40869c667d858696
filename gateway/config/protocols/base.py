"""The config half of a protocol: what it adds to the site file and to profiles.

``lvgw check-config`` knows every protocol without opening a socket: each one gives a
``ProtocolSchema`` (the sections it adds to the site file and to profiles, and the
fields that address a point or a table on the wire), and the models of the site file
and of profiles are assembled from them. The other half of a protocol, its driver,
reader and push source, is its entry in the protocol registry (gateway/protocols/).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from pydantic import BaseModel, create_model

from gateway.config.types import Strict

M = TypeVar("M", bound=BaseModel)
S = TypeVar("S", bound=BaseModel)

# Where in a profile a problem is, and what it is.
Problem = tuple[tuple[str | int, ...], str]


def _fits(part: Any) -> str | None:
    return None


def _fits_type(point_type: str, part: Any) -> str | None:
    return None


def _no_table_problems(part: Any, table: str, points: Iterable[str]) -> list[Problem]:
    return []


@dataclass(frozen=True, slots=True)
class ProtocolSchema:
    """What one protocol adds to the site file and to profiles.

    ``device``: the model of a device's ``<name>:`` section (how to reach it: a
    community, a unit id). ``site``: top-level sections of the site file, by key (the
    trap receiver's ``traps:``). ``profile``: the model of a profile's ``<name>:``
    section (every field defaulted). ``point`` and ``table``: the fields that address
    a point or a table on the wire, given flat in the profile (``oid:``; ``table:``,
    ``address:``); every field optional, since a point of another protocol has none.
    ``point_types``: the ``type:`` values its points may take. ``readings``: the
    readings its reader yields besides the profile's points and ``reachable``/``rtt``
    (an HTTP API's ``access``), which rules may name. ``check_point`` says why
    a point's address does not do (or None), ``check_scalar`` why it does not do for a
    point outside a table (it has no table to take a resource from), ``check_type``
    why it does not do for the point's ``type`` (a DC-09 ``int`` point takes an
    event's number); ``check_table``
    lists the problems of a table's address, given the table's name and the profile's
    point names.
    """

    name: str  # a profile's `protocol:`, and the key of a device's settings section
    title: str  # for people: "SNMP"
    device: type[Strict] | None = None
    site: Mapping[str, type[Strict]] = field(default_factory=dict)
    profile: type[Strict] | None = None
    point: type[Strict] | None = None
    point_types: frozenset[str] = frozenset()
    readings: frozenset[str] = frozenset()
    table: type[Strict] | None = None
    check_point: Callable[[Any], str | None] = _fits
    # What a point outside a table needs besides (an HTTP point: its own path).
    check_scalar: Callable[[Any], str | None] = _fits
    check_type: Callable[[str, Any], str | None] = _fits_type
    # What a device that speaks it cannot do without: its own section (a DC-09
    # account), a section of the site file (the DC-09 receiver it reports to).
    device_section_required: bool = False
    site_section_required: str | None = None
    check_table: Callable[[Any, str, Iterable[str]], list[Problem]] = _no_table_problems

    def point_fields(self) -> frozenset[str]:
        return frozenset(self.point.model_fields) if self.point else frozenset()

    def table_fields(self) -> frozenset[str]:
        return frozenset(self.table.model_fields) if self.table else frozenset()


def with_fields(name: str, base: type[M], fields: Mapping[str, tuple[Any, Any]]) -> type[M]:
    """``base`` with more fields: its subclass ``name``, which pydantic validates.

    The site file's and the profiles' models get their protocol parts this way, so
    that adding a protocol does not edit them.
    """
    model = create_model(  # type: ignore[call-overload]
        name,
        __base__=base,
        __module__=base.__module__,
        __doc__=base.__doc__,
        **fields,
    )
    return cast(type[M], model)


def flat_fields(parts: Iterable[type[Strict] | None]) -> dict[str, tuple[Any, Any]]:
    """The fields of ``parts`` side by side; a name two protocols share must mean the
    same to both (an HTTP ``path``, say)."""
    out: dict[str, tuple[Any, Any]] = {}
    for part in parts:
        if part is None:
            continue
        for name, info in part.model_fields.items():
            if name in out and out[name][0] != info.annotation:
                raise TypeError(f"protocols disagree on the type of the field {name!r}")
            out[name] = (info.annotation, info)
    return out


def part_of(model: BaseModel, part: type[S]) -> S:
    """The fields of ``part`` that ``model`` carries flat (a point's SNMP address)."""
    return part.model_construct(**{name: getattr(model, name) for name in part.model_fields})


def section_of(model: BaseModel, name: str, kind: type[S]) -> S | None:
    """A protocol's section ``name`` of ``model`` (a device's ``snmp:``), or None."""
    value = getattr(model, name, None)
    if value is None:
        return None
    if not isinstance(value, kind):
        raise TypeError(f"section {name!r} is a {type(value).__name__}, not a {kind.__name__}")
    return value
