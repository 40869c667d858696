"""Protocol values -> reading values, by the profile point's declared type.

Decoding is decided once per point (``PointDecoder``), not per value: the hot path
calls one prepared function.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from drivers.modbus import Bitfield
from drivers.snmp import NO_SUCH
from gateway.config.profile import Point
from gateway.model import Quality, Reading, Value


def date_and_time(raw: bytes) -> float | None:
    """SNMPv2-TC DateAndTime (8 or 11 octets) -> Unix seconds, None if malformed."""
    if len(raw) not in (8, 11):
        return None
    year = int.from_bytes(raw[0:2], "big")
    month, day, hour, minute, second, deci = raw[2:8]
    offset = timedelta()
    if len(raw) == 11:
        sign = {ord("+"): 1, ord("-"): -1}.get(raw[8])
        if sign is None:
            return None
        offset = sign * timedelta(hours=raw[9], minutes=raw[10])
    try:
        local = datetime(year, month, day, hour, minute, min(second, 59), deci * 100_000)
    except ValueError:
        return None
    return (local - offset).replace(tzinfo=UTC).timestamp()


# Point types whose values are converted (not numbers as read).
_CONVERTED = frozenset({"text", "oid", "dateandtime", "timeticks"})


def _text(raw: object) -> Value:
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace").rstrip("\x00")
    return str(raw)


@dataclass(frozen=True, slots=True)
class PointDecoder:
    """Turns one raw value of a point into its readings (several for a bitfield)."""

    name: str
    point: Point
    # Names made once, not per value: a bitfield's readings, a counter's rate and unit.
    bit_names: tuple[tuple[int, str], ...] = field(init=False)
    rate_name: str = field(init=False)
    rate_unit: str = field(init=False)
    # An integer point read as it comes (no scale, offset, or hundredths of a second):
    # its int values need no conversion, the usual case of a table's columns.
    plain_int: bool = field(init=False)

    def __post_init__(self) -> None:
        point = self.point
        named = point.bits.items() if point.bits else ()
        bits = tuple((bit, sys.intern(f"{self.name}.{bit_name}")) for bit, bit_name in named)
        object.__setattr__(self, "bit_names", bits)
        object.__setattr__(self, "rate_name", sys.intern(f"{self.name}.rate"))
        unit = point.unit
        object.__setattr__(self, "rate_unit", f"{unit}/s" if unit else "/s")
        plain = point.scale is None and point.offset is None and point.type not in _CONVERTED
        object.__setattr__(self, "plain_int", plain)

    def number(self, raw: object) -> Value:
        """The scaled number (or text), before state mapping; None if it is not one."""
        if self.plain_int and type(raw) is int:
            return raw
        if isinstance(raw, bool):
            return raw
        if self.point.type == "text" or self.point.type == "oid":
            return _text(raw)
        if self.point.type == "dateandtime":
            return date_and_time(raw) if isinstance(raw, bytes) else None
        if isinstance(raw, Bitfield):
            return raw.word
        if not isinstance(raw, int | float):
            return None
        if self.point.type == "timeticks":
            raw = raw / 100.0  # hundredths of a second -> seconds
        if self.point.scale is not None:
            raw = raw * self.point.scale
        if self.point.offset is not None:
            raw = raw + self.point.offset
        return raw

    def readings(
        self, device: str, raw: object, ts: datetime, instance: str = "", name: str = ""
    ) -> list[Reading]:
        point = self.point
        if name and name != self.name:  # another name than the point's: its bits follow it
            bit_names = tuple((bit, f"{name}.{bit_name}") for bit, bit_name in point.bits.items())
        else:
            name, bit_names = self.name, self.bit_names
        unit = point.unit
        if raw is NO_SUCH:
            return [Reading(device, name, None, ts, instance, unit, Quality.ABSENT)]
        value = None if raw is None else self.number(raw)
        if value is None:
            return [Reading(device, name, None, ts, instance, unit, Quality.BAD)]
        states = point.states
        if states and isinstance(value, int) and not isinstance(value, bool):
            out = [Reading(device, name, states.get(value, f"unknown({value})"), ts, instance)]
        else:
            out = [Reading(device, name, value, ts, instance, unit)]
        if bit_names and isinstance(raw, Bitfield | int):
            word = raw.word if isinstance(raw, Bitfield) else raw
            for bit, bit_name in bit_names:
                out.append(Reading(device, bit_name, bool((word >> bit) & 1), ts, instance))
        return out
