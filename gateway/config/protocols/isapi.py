"""Hikvision ISAPI in the site file (a device's ``isapi:``) and in profiles (a point's
``path``/``field``/``codes``, a table's ``path``/``row``/``key``, the profile's
``isapi: events:``). docs/isapi.md."""

from __future__ import annotations

from pydantic import BaseModel

from gateway.config.protocols.base import part_of, section_of
from gateway.config.protocols.http import HttpApi, HttpEvents, HttpPoint, HttpRows, http_schema

ISAPI = http_schema("isapi", "ISAPI")


def isapi_settings(device: BaseModel) -> HttpApi | None:
    """A device's ``isapi:`` section (None when it has none: the profile cannot be read)."""
    return section_of(device, ISAPI.name, HttpApi)


def isapi_events(profile: BaseModel) -> HttpEvents:
    return section_of(profile, ISAPI.name, HttpEvents) or HttpEvents()


def http_point(point: BaseModel) -> HttpPoint:
    """The HTTP API address of a profile point or table column."""
    return part_of(point, HttpPoint)


def http_rows(table: BaseModel) -> HttpRows:
    return part_of(table, HttpRows)
