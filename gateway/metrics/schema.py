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
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from gateway.config.load import LoadedConfig
from gateway.config.profile import Point, Profile
from gateway.metrics.lineproto import escape_key, escape_tag_value, float_field, integer_field
from gateway.model import Quality, Reading

DEVICE_MEASUREMENT = "lvgw_device"
INFO_MEASUREMENT = "lvgw_device_info"
GATEWAY_MEASUREMENT = "lvgw_gateway"
INFO_FIELD = "present"  # lvgw_device_info's only field, always 1

# The device id of the gateway's own readings (gateway/metrics/selfstats.py). Device
# ids of a site file start with a letter or digit, so it cannot clash with one.
GATEWAY_DEVICE = "_gateway"

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


@dataclass(slots=True)
class _Line:
    measurement: str
    device: str
    table: str
    instance: str
    ts_ms: int
    fields: list[str]
    label: str = ""


class MetricSchema:
    """Turns readings into line-protocol lines, one line per device, table row and time.

    ``lines()`` is a pure function of the readings: the site, the devices' kinds and
    their profiles' fields are fixed when the schema is built.
    """

    def __init__(self, site: str, devices: Mapping[str, DeviceMeta]) -> None:
        self.site = site
        self.devices = dict(devices)
        self._site_tag = f",site={escape_tag_value(site)}"
        self._keys: dict[str, str] = {}  # point name -> escaped field key

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
        lines: dict[tuple[str, str, str, int], _Line] = {}
        info: dict[tuple[str, int], list[str]] = {}
        last_ts: datetime | None = None
        ts_ms = 0
        meta = DeviceMeta("")
        meta_of = ""
        for reading in readings:
            value = reading.value
            if value is None or reading.quality is not Quality.GOOD:
                continue
            if reading.device != meta_of:
                meta_of = reading.device
                meta = self.devices.get(reading.device) or DeviceMeta("")
            if reading.ts is not last_ts:
                last_ts = reading.ts
                ts_ms = (reading.ts - _EPOCH) // _MS
            rule = meta.fields.rules.get(reading.point)
            text = _field_value(rule, value)
            if text is None:
                if rule is not None and rule.type is FieldType.TEXT and isinstance(value, str):
                    self._text(meta, reading, value, ts_ms, lines, info)
                continue
            table = meta.fields.table_of(reading.point) if reading.instance else ""
            key = (reading.device, table, reading.instance, ts_ms)
            line = lines.get(key)
            if line is None:
                measurement = (
                    GATEWAY_MEASUREMENT if reading.device == GATEWAY_DEVICE else DEVICE_MEASUREMENT
                )
                line = lines[key] = _Line(
                    measurement, reading.device, table, reading.instance, ts_ms, []
                )
            line.fields.append(f"{self._key(reading.point)}={text}")
        out = [self._format(line) for line in lines.values() if line.fields]
        out += [self._info_line(device, tags, at) for (device, at), tags in info.items()]
        return out

    # -- internals ----------------------------------------------------------------

    def _kind(self, device: str) -> str:
        meta = self.devices.get(device)
        return meta.kind if meta is not None else ""

    def _key(self, point: str) -> str:
        key = self._keys.get(point)
        if key is None:
            key = self._keys[point] = escape_key(point)
        return key

    def _text(
        self,
        meta: DeviceMeta,
        reading: Reading,
        value: str,
        ts_ms: int,
        lines: dict[tuple[str, str, str, int], _Line],
        info: dict[tuple[str, int], list[str]],
    ) -> None:
        tag_value = escape_tag_value(value)
        if not tag_value:
            return
        if not reading.instance:
            tag = f"{self._key(reading.point)}={tag_value}"
            info.setdefault((reading.device, ts_ms), []).append(tag)
            return
        table = meta.fields.table_of(reading.point)
        if meta.fields.labels.get(table) != reading.point:
            return  # other text columns (ifDescr, ifAlias) stay in the embedded store
        key = (reading.device, table, reading.instance, ts_ms)
        line = lines.get(key)
        if line is None:
            line = lines[key] = _Line(
                DEVICE_MEASUREMENT, reading.device, table, reading.instance, ts_ms, []
            )
        line.label = tag_value

    def _format(self, line: _Line) -> str:
        # Tags in key order (device, instance, kind, label, site, table): what InfluxDB
        # sorts them to anyway, so it need not.
        parts = [line.measurement]
        if line.measurement != GATEWAY_MEASUREMENT:
            parts.append(f",device={escape_tag_value(line.device)}")
        if line.instance:
            parts.append(f",instance={escape_tag_value(line.instance)}")
        kind = self._kind(line.device)
        if kind:
            parts.append(f",kind={kind}")
        if line.label:
            parts.append(f",label={line.label}")
        parts.append(self._site_tag)
        if line.table:
            parts.append(f",table={escape_tag_value(line.table)}")
        parts.append(" ")
        parts.append(",".join(line.fields))
        parts.append(f" {line.ts_ms}")
        return "".join(parts)

    def _info_line(self, device: str, tags: list[str], ts_ms: int) -> str:
        kind = self._kind(device)
        kind_tag = f",kind={kind}" if kind else ""
        # Tags must be sorted for the line to be canonical; the point names decide.
        text_tags = "".join(f",{tag}" for tag in sorted(tags))
        return (
            f"{INFO_MEASUREMENT},device={escape_tag_value(device)}{kind_tag}{self._site_tag}"
            f"{text_tags} {INFO_FIELD}=1i {ts_ms}"
        )


def _field_value(rule: FieldRule | None, value: float | int | str | bool) -> str | None:
    """The field value text for a reading's value, or None when it is not a field."""
    if rule is None:  # a reading no profile declares (reachable, rtt, the gateway's own)
        if isinstance(value, bool):
            return integer_field(int(value))
        if isinstance(value, int | float):
            return float_field(value)
        return None
    kind = rule.type
    if kind is FieldType.FLOAT:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float_field(value)
    if kind is FieldType.INTEGER:
        if isinstance(value, bool):
            return integer_field(int(value))
        if isinstance(value, int):
            return integer_field(value)
        return None
    if kind is FieldType.STATE:
        return _state_code(rule, value)
    return None


def _state_code(rule: FieldRule, value: float | int | str | bool) -> str | None:
    if isinstance(value, str):
        code = rule.codes.get(value)
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
