"""What the HTTP device APIs (Hikvision ISAPI, the Dahua HTTP API) share in the site
file and in profiles: how to reach a device (a device's ``isapi:`` / ``dahua:``
section) and where a value is in an answer (a point's ``path`` and ``field``, a
table's ``path``, ``row`` and ``key``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator

from gateway.config.protocols.base import ProtocolSchema
from gateway.config.types import Duration, Strict


class HttpApi(Strict):
    """A device's ``isapi:`` or ``dahua:`` section: scheme, account, TLS, timeout.

    The password is read from ``password_file`` (its first line) when the gateway
    starts, like SNMPv3 keys: it is never in the site file, never logged.
    """

    scheme: Literal["http", "https"] = "http"
    user: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^:\s]+$")]
    password_file: Path
    verify_tls: bool = True  # https: check the device's certificate
    ca_file: Path | None = None  # https: the CA (or self-signed certificate) to trust
    timeout: Duration = 5.0  # one request, from connect to its last byte
    events: bool = True  # hold the device's event stream open (pushes ask for a poll)


def _api_path(value: str | None) -> str | None:
    if value is not None and (not value.startswith("/") or any(c.isspace() for c in value)):
        raise ValueError(f"not an API path: {value!r} (it starts with /, no spaces)")
    return value


class HttpPoint(Strict):
    """Where an HTTP API value is: the resource (``path``, with its query) and the
    ``field`` in its answer (an element path, or a key); a table column may read
    another resource of the same rows (its own ``path``, ``row`` and ``key``).
    ``codes`` turns the answer's words into the numbers ``states`` names.

    ``presence: true`` (a table column, in place of ``field``): the value is whether
    the instance is among the rows of the column's resource, the word ``present`` or
    ``absent``: Dahua's event indexes list only the channels where an event is on."""

    path: str | None = None
    field: str | None = None
    row: str | None = None
    key: str | None = None
    codes: dict[str, int] | None = None
    presence: bool | None = None

    _path = field_validator("path")(_api_path)


class HttpRows(Strict):
    """Where a table's rows are: the resource (``path``), the repeated element or key
    prefix (``row``) and what names an instance in a row (``key``)."""

    path: str | None = None
    row: str | None = None
    key: str | None = None

    _path = field_validator("path")(_api_path)


HttpType = Literal["int", "float", "text", "datetime"]


def check_http_point(point: HttpPoint) -> str | None:
    if point.presence:
        if point.field is not None:
            return "a presence column reads no field (it is present or absent)"
        if point.row is None:
            return "a presence column needs the row of its resource"
        return None
    return "an HTTP API point needs a field" if point.field is None else None


def check_http_scalar(point: HttpPoint) -> str | None:
    """A point outside a table has no table to take its resource from."""
    if point.path is None:
        return "an HTTP API point needs a path (the resource it is read from)"
    if point.presence:
        return "presence is for table columns"
    return None


def check_http_rows(
    rows: HttpRows, name: str, points: object
) -> list[tuple[tuple[str | int, ...], str]]:
    if rows.path is None or rows.row is None:
        return [(("tables", name), f"table {name}: an HTTP API table needs a path and a row")]
    return []


class HttpEvents(Strict):
    """A profile's ``isapi:`` / ``dahua:`` section: which events of the device's stream
    the profile knows, by reading name: ``event.<name>`` (with the channel as instance)
    and an immediate poll of the device."""

    events: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], str] = Field(
        default_factory=dict
    )


# Readings an HTTP API reader yields besides the profile's points: whether the device
# accepts the gateway's credentials ("ok", "auth_failed").
HTTP_READINGS = frozenset({"access"})


def http_schema(
    name: str, title: str, check_point: Callable[[HttpPoint], str | None] = check_http_point
) -> ProtocolSchema:
    """The schema of an HTTP device API: a device's ``<name>:`` section, the profile's
    events, the points' and tables' HTTP fields, the ``access`` reading."""
    return ProtocolSchema(
        name=name,
        title=title,
        device=HttpApi,
        profile=HttpEvents,
        point=HttpPoint,
        point_types=frozenset(HttpType.__args__),  # type: ignore[attr-defined]
        readings=HTTP_READINGS,
        table=HttpRows,
        check_point=check_point,
        check_scalar=check_http_scalar,
        check_table=check_http_rows,
        device_section_required=True,  # its account: no device is read without one
    )
