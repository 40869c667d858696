"""Readings -> InfluxDB line protocol: the metric schema of docs/metrics.md.

One measurement for every device reading (``lvgw_device``), one for the text that
describes a device (``lvgw_device_info``) and one for the gateway's own health
(``lvgw_gateway``). A field key is the reading's point name; its type is decided once
per profile point, never by the value at hand, so a field never changes type (InfluxDB
refuses a batch that does):

- a state point (``states:`` in the profile): integer, the raw code of the state name;
- a bool (``reachable``, bitfield bits, coils): integer 0 or 1;
- any other number: float;
- text: not a field. A table's label column becomes the ``label`` tag of its row; the
  device's text scalars (sysDescr, sysName...) become tags of its ``lvgw_device_info``
  line; other text is left to the embedded store;
- a counter's raw value when the profile asks for its rate, and a bitfield's word
  when its bits are named: not sent (the ``.rate`` and the bits carry them).

Readings that are not GOOD (stale or undecodable) are not sent: a gap in a graph is
the truth, and ``reachable`` says why.

The mapping is a pure function of the readings and of what the profiles declare; it is
prepared once per profile (`ProfileFields`), so the hot path only looks names up.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from gateway.config.load import LoadedConfig
from gateway.config.profile import Point, Profile
from gateway.metrics.lineproto import escape_key, escape_tag_value, integer_field
from gateway.model import Quality, Reading

DEVICE_MEASUREMENT = "lvgw_device"
INFO_MEASUREMENT = "lvgw_device_info"
GATEWAY_MEASUREMENT = "lvgw_gateway"
INFO_FIELD = "present"  # lvgw_device_info's only field, always 1

# The device id of the gateway's own readings (gateway/metrics/selfstats.py): an id
# the site file reserves (gateway.config.load.RESERVED_IDS), so no device has it.
GATEWAY_DEVICE = "gateway"

_UNKNOWN_STATE = re.compile(r"^unknown\((-?\d+)\)$")  # gateway/poller/decode.py's form
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


class FieldType(enum.Enum):
    FLOAT = "float"
    INTEGER = "integer"  # bools as 0/1
    STATE = "state"  # integer: the raw code of a state name
    TEXT = "text"  # never a field: a label tag, an info tag, or dropped
    SKIP = "skip"  # carried by other fields (a counter's rate, a bitfield's bits)


@dataclass(frozen=True, slots=True)
class FieldRule:
    type: FieldType
    codes: Mapping[str, int] = field(default_factory=dict)  # STATE: state name -> raw code
    unit: str = ""


def state_codes(states: Mapping[int, str]) -> dict[str, int]:
    """A profile's ``states:`` map turned around; a name given to several codes keeps
    the lowest."""
    codes: dict[str, int] = {}
    for code in sorted(states):
        codes.setdefault(states[code], code)
    return codes


def _point_rules(name: str, point: Point) -> dict[str, FieldRule]:
    rules: dict[str, FieldRule] = {}
    if point.type in ("text", "oid"):
        rules[name] = FieldRule(FieldType.TEXT)
    elif point.states:
        rules[name] = FieldRule(FieldType.STATE, state_codes(point.states), point.unit)
    elif point.type == "bool":
        rules[name] = FieldRule(FieldType.INTEGER, unit=point.unit)
    elif point.rate or (point.type == "bitfield" and point.bits):
        rules[name] = FieldRule(FieldType.SKIP)
    else:
        rules[name] = FieldRule(FieldType.FLOAT, unit=point.unit)
    for bit in point.bits.values():
        rules[f"{name}.{bit}"] = FieldRule(FieldType.INTEGER)
    if point.rate:
        rules[f"{name}.rate"] = FieldRule(FieldType.FLOAT, unit=f"{point.unit}/s")
    return rules


@dataclass(frozen=True, slots=True)
class ProfileFields:
    """What each reading name of one profile becomes, decided once at load."""

    rules: Mapping[str, FieldRule]
    tables: tuple[str, ...]  # table names, longest first (a name may contain dots)
    labels: Mapping[str, str]  # table -> the reading name of its label column

    @classmethod
    def from_profile(cls, profile: Profile) -> ProfileFields:
        rules: dict[str, FieldRule] = {}
        for name, point in profile.points.items():
            rules.update(_point_rules(name, point))
        labels: dict[str, str] = {}
        for table_name, table in profile.tables.items():
            for column, point in table.columns.items():
                rules.update(_point_rules(f"{table_name}.{column}", point))
            if table.label is not None:
                labels[table_name] = f"{table_name}.{table.label}"
        tables = tuple(sorted(profile.tables, key=len, reverse=True))
        return cls(rules, tables, labels)

    def table_of(self, point: str) -> str:
        """The table a row reading belongs to: the longest table name prefixing it,
        else the point name's first part (gateway readings: ``outbox.backlog_messages``)."""
        for table in self.tables:
            if point.startswith(table) and point[len(table) : len(table) + 1] == ".":
                return table
        return point.split(".", 1)[0]


NO_PROFILE = ProfileFields({}, (), {})


@dataclass(frozen=True, slots=True)
class DeviceMeta:
    kind: str
    fields: ProfileFields = NO_PROFILE


@dataclass(frozen=True, slots=True)
class _Point:
    """One reading name of one device, made ready for the hot path."""

    type: FieldType | None  # None: no profile declares it; typed by its value
    codes: Mapping[str, int]
    key: str  # the escaped field (or tag) key
    table: str  # the table of its row, for a reading with an instance
    is_label: bool  # a text column that names its row


@dataclass(frozen=True, slots=True)
class _Device:
    head: str  # measurement and device tag: "lvgw_device,device=sw-1"
    kind_tag: str  # ",kind=switch", or "" for a device outside the schema


@dataclass(slots=True)
class _Line:
    device: _Device
    table: str
    instance: str
    ts_ms: int
    fields: list[str]
    label: str = ""


class MetricSchema:
    """Turns readings into line-protocol lines, one line per device, table row and time.

    ``lines()`` is a pure function of the readings: the site, the devices' kinds and
    their profiles' fields are fixed when the schema is built. What it works out per
    device and point name is kept, so a poll costs dictionary look-ups.
    """

    def __init__(self, site: str, devices: Mapping[str, DeviceMeta]) -> None:
        self.site = site
        self.devices = dict(devices)
        self._site_tag = f",site={escape_tag_value(site)}"
        self._points: dict[tuple[str, str], _Point] = {}
        self._device_tags: dict[str, _Device] = {}
        self._tag_values: dict[str, str] = {}  # tag value -> escaped

    @classmethod
    def from_config(cls, config: LoadedConfig) -> MetricSchema:
        prepared = {name: ProfileFields.from_profile(p) for name, p in config.profiles.items()}
        devices = {
            device.id: DeviceMeta(device.kind.value, prepared.get(device.profile, NO_PROFILE))
            for device in config.devices
        }
        return cls(config.site_file.site.id, devices)

    def lines(self, readings: Iterable[Reading]) -> list[str]:
        """The line-protocol lines (without newlines) for these readings, in the order
        their devices and rows first appear."""
        rows: dict[tuple[str, str, str, int], _Line] = {}
        info: dict[tuple[str, int], list[str]] = {}
        points = self._points
        good, text_type, field_value = Quality.GOOD, FieldType.TEXT, _field_value  # locals: hot
        last_ts: datetime | None = None
        ts_ms = 0
        for reading in readings:
            value = reading.value
            if value is None or reading.quality is not good:
                continue
            point = points.get((reading.device, reading.point))
            if point is None:
                point = self._prepare(reading.device, reading.point)
            if reading.ts is not last_ts:
                last_ts = reading.ts
                ts_ms = (reading.ts - _EPOCH) // _MS
            text = field_value(point, value)
            if text is None:
                if point.type is text_type and isinstance(value, str):
                    self._text(point, reading, value, ts_ms, rows, info)
                continue
            table = point.table if reading.instance else ""
            key = (reading.device, table, reading.instance, ts_ms)
            line = rows.get(key)
            if line is None:
                line = rows[key] = self._line(reading.device, table, reading.instance, ts_ms)
            line.fields.append(f"{point.key}={text}")
        out = [self._format(line) for line in rows.values() if line.fields]
        out += [self._info_line(device, tags, at) for (device, at), tags in info.items()]
        return out

    # -- internals ----------------------------------------------------------------

    def _prepare(self, device: str, name: str) -> _Point:
        meta = self.devices.get(device)
        fields = meta.fields if meta is not None else NO_PROFILE
        rule = fields.rules.get(name)
        table = fields.table_of(name)
        point = _Point(
            type=rule.type if rule is not None else None,
            codes=rule.codes if rule is not None else {},
            key=escape_key(name),
            table=table,
            is_label=fields.labels.get(table) == name,
        )
        self._points[(device, name)] = point
        return point

    def _device(self, device: str) -> _Device:
        tags = self._device_tags.get(device)
        if tags is None:
            meta = self.devices.get(device)
            if device == GATEWAY_DEVICE:
                head = GATEWAY_MEASUREMENT
            else:
                head = f"{DEVICE_MEASUREMENT},device={escape_tag_value(device)}"
            kind_tag = f",kind={escape_tag_value(meta.kind)}" if meta and meta.kind else ""
            tags = self._device_tags[device] = _Device(head, kind_tag)
        return tags

    def _line(self, device: str, table: str, instance: str, ts_ms: int) -> _Line:
        return _Line(self._device(device), table, instance, ts_ms, [])

    def _tag_value(self, text: str) -> str:
        """Escaped, remembered: instances, tables and labels come back every poll."""
        escaped = self._tag_values.get(text)
        if escaped is None:
            if len(self._tag_values) > 100_000:  # texts from traps are not bounded
                self._tag_values.clear()
            escaped = self._tag_values[text] = escape_tag_value(text)
        return escaped

    def _text(
        self,
        point: _Point,
        reading: Reading,
        value: str,
        ts_ms: int,
        rows: dict[tuple[str, str, str, int], _Line],
        info: dict[tuple[str, int], list[str]],
    ) -> None:
        tag_value = self._tag_value(value)
        if not tag_value:
            return
        if not reading.instance:
            info.setdefault((reading.device, ts_ms), []).append(f"{point.key}={tag_value}")
            return
        if not point.is_label:
            return  # other text columns (ifDescr, ifAlias) stay in the embedded store
        key = (reading.device, point.table, reading.instance, ts_ms)
        line = rows.get(key)
        if line is None:
            line = rows[key] = self._line(reading.device, point.table, reading.instance, ts_ms)
        line.label = tag_value

    def _format(self, line: _Line) -> str:
        # Tags in key order (device, instance, kind, label, site, table): what InfluxDB
        # sorts them to anyway, so it need not.
        instance = f",instance={self._tag_value(line.instance)}" if line.instance else ""
        label = f",label={line.label}" if line.label else ""
        table = f",table={self._tag_value(line.table)}" if line.table else ""
        fields = ",".join(line.fields)
        return (
            f"{line.device.head}{instance}{line.device.kind_tag}{label}{self._site_tag}"
            f"{table} {fields} {line.ts_ms}"
        )

    def _info_line(self, device: str, tags: list[str], ts_ms: int) -> str:
        head = self._device(device)
        # Tags sorted, as InfluxDB keeps them; the point names decide.
        text_tags = "".join(f",{tag}" for tag in sorted(tags))
        return (
            f"{INFO_MEASUREMENT}{head.head.removeprefix(DEVICE_MEASUREMENT)}{head.kind_tag}"
            f"{self._site_tag}{text_tags} {INFO_FIELD}=1i {ts_ms}"
        )


def _field_value(point: _Point, value: float | int | str | bool) -> str | None:
    """The field value text for a reading's value, or None when it is not a field.

    Classes are compared exactly (``bool`` is an ``int``): this runs for every reading.
    """
    kind = point.type
    cls = value.__class__
    if kind is _FLOAT or kind is None:
        if cls is float:
            return repr(value) if _isfinite(value) else None  # type: ignore[arg-type]
        if cls is int:
            return repr(float(value))
        if cls is bool and kind is None:  # reachable, and the gateway's flags
            return "1i" if value else "0i"
        return None
    if kind is _INTEGER:
        if cls is bool:
            return "1i" if value else "0i"
        return f"{value}i" if cls is int else None
    if kind is _STATE:
        return _state_code(point, value)
    return None


_FLOAT, _INTEGER, _STATE = FieldType.FLOAT, FieldType.INTEGER, FieldType.STATE
_isfinite = math.isfinite


def _state_code(point: _Point, value: float | int | str | bool) -> str | None:
    if isinstance(value, str):
        code = point.codes.get(value)
        if code is None:
            match = _UNKNOWN_STATE.match(value)
            if match is None:
                return None
            code = int(match.group(1))
        return integer_field(code)
    if isinstance(value, bool):
        return integer_field(int(value))
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return integer_field(int(value))
    return None
