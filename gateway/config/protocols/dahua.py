"""The Dahua HTTP API in the site file (a device's ``dahua:``) and in profiles (a
point's ``path``/``field``/``codes``/``presence``, a table's ``path``/``row``/``key``,
the profile's ``dahua: events:``). A field is a key of the answer or a small
expression over keys (drivers/dahua/fields.py). docs/dahua.md."""

from __future__ import annotations

from pydantic import BaseModel

from drivers.dahua import parse_field
from gateway.config.protocols.base import section_of
from gateway.config.protocols.http import (
    HttpApi,
    HttpEvents,
    HttpPoint,
    check_http_point,
    http_schema,
)


def _check_point(point: HttpPoint) -> str | None:
    why = check_http_point(point)
    if why is None and point.field is not None:
        try:
            parse_field(point.field)
        except ValueError as exc:
            return f"field: {exc}"
    return why


DAHUA = http_schema("dahua", "Dahua HTTP API", _check_point)


def dahua_settings(device: BaseModel) -> HttpApi | None:
    """A device's ``dahua:`` section (None when it has none: the profile cannot be read)."""
    return section_of(device, DAHUA.name, HttpApi)


def dahua_events(profile: BaseModel) -> HttpEvents:
    return section_of(profile, DAHUA.name, HttpEvents) or HttpEvents()
