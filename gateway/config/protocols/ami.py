"""The Asterisk Manager Interface in the site file (a device's ``ami:`` account) and in
profiles (a point's ``action``/``field``/``time_field``/``distinct``/``codes``, a
table's ``sources``, the profile's ``ami: poll_on:``). docs/ami.md is the reference."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from drivers.ami import LIST_ROWS, READ_ACTIONS
from gateway.config.protocols.base import Problem, ProtocolSchema, part_of, section_of
from gateway.config.types import Duration, Strict

HEADER = r"^[A-Za-z][A-Za-z0-9_-]*$"  # an AMI header name


class Ami(Strict):
    """A device's ``ami:`` section: the manager account, TLS, timeout, events.

    The secret is read from ``secret_file`` (its first line) when the gateway starts:
    never in the site file, never logged. ``timezone`` is the PBX's own (CoreStatus
    gives its start and reload times in it); the default is the site's, else the
    gateway's."""

    username: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[^\s:]+$")]
    secret_file: Path
    auth: Literal["md5", "plain"] = "md5"  # md5: the secret never crosses the wire
    tls: bool = False  # manager.conf tlsenable (port 5039 unless the device sets one)
    ca_file: Path | None = None  # TLS: the CA (or the PBX's own certificate) to trust
    verify_tls: bool = True
    timeout: Duration = 5.0  # connect and log in, and each action
    events: bool = True  # keep the session open for the PBX's events (polls at once)
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r}") from None
        return value


Action = Annotated[str, Field(pattern=r"^[A-Za-z]+$")]
Header = Annotated[str, Field(pattern=HEADER)]


class AmiPoint(Strict):
    """Where an AMI value is: the ``field`` (a header) of ``action``'s response, or of
    the event that closes its list (``ListItems``); with ``distinct``, how many
    different non-empty values the list's rows have in it; a table column's ``field``
    is a header of each row. ``type: age``: seconds since the PBX-local date in
    ``field`` and time in ``time_field``. ``codes`` turns the PBX's words into the
    numbers ``states`` names."""

    action: Action | None = None
    field: str | None = None
    time_field: Header | None = None
    distinct: bool = False
    codes: dict[str, int] | None = None


class AmiSource(Strict):
    """One list action whose rows are instances of a table: each row event of the
    action (``LIST_ROWS``) whose headers equal ``where``, named by its ``key``."""

    action: Action
    key: Header = "ObjectName"
    where: dict[Header, str] = Field(default_factory=dict)


class AmiRows(Strict):
    """Where a table's rows are: one or more list actions (a trunk is a PJSIP outbound
    registration, or a chan_sip peer with a fixed host)."""

    sources: list[AmiSource] | None = None


class AmiOptions(Strict):
    """A profile's ``ami:`` section: the pushed events that ask for a poll at once."""

    poll_on: list[Header] = Field(default_factory=list)


AmiType = Literal["int", "float", "text", "counter32", "age"]

# Readings an AMI reader yields besides the profile's points: whether the PBX accepts
# the gateway's account and certificate ("ok", "auth_failed", "tls_failed").
AMI_READINGS = frozenset({"access"})


def _check_point(point: AmiPoint) -> str | None:
    if point.field is None:
        return "an AMI point needs a field"
    if point.action is not None and point.action not in READ_ACTIONS:
        actions = ", ".join(sorted(READ_ACTIONS))
        return f"action {point.action!r} is not one the gateway sends ({actions})"
    if point.distinct and point.action not in LIST_ROWS:
        return "distinct counts the rows of a list action"
    return None


def _check_type(point_type: str, point: Any) -> str | None:
    if getattr(point, "time_field", None) is not None and point_type != "age":
        return "time_field is for age points"
    return None


def _check_table(rows: AmiRows, name: str, points: Iterable[str]) -> list[Problem]:
    at: tuple[str | int, ...] = ("tables", name)
    if not rows.sources:
        return [(at, f"table {name}: an AMI table needs sources")]
    problems: list[Problem] = []
    for index, source in enumerate(rows.sources):
        if source.action not in LIST_ROWS:
            lists = ", ".join(sorted(LIST_ROWS))
            why = f"table {name}: {source.action!r} lists no rows ({lists})"
            problems.append(((*at, "sources", index, "action"), why))
    return problems


AMI = ProtocolSchema(
    name="ami",
    title="AMI",
    device=Ami,
    profile=AmiOptions,
    point=AmiPoint,
    point_types=frozenset(AmiType.__args__),  # type: ignore[attr-defined]
    readings=AMI_READINGS,
    table=AmiRows,
    check_point=_check_point,
    check_type=_check_type,
    check_table=_check_table,
    device_section_required=True,
)


def ami_settings(device: BaseModel) -> Ami | None:
    return section_of(device, AMI.name, Ami)


def ami_options(profile: BaseModel) -> AmiOptions:
    return section_of(profile, AMI.name, AmiOptions) or AmiOptions()


def ami_point(point: BaseModel) -> AmiPoint:
    """The AMI address of a profile point or table column."""
    return part_of(point, AmiPoint)


def ami_rows(table: BaseModel) -> AmiRows:
    return part_of(table, AmiRows)
