"""Protocol values -> reading values, by the profile point's declared type.

Decoding is decided once per point (``PointDecoder``), not per value: the hot path
calls one prepared function.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def _text(raw: object) -> Value:
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace").rstrip("\x00")
    return str(raw)


@dataclass(frozen=True, slots=True)
class PointDecoder:
    """Turns one raw value of a point into its readings (several for a bitfield)."""

    name: str
    point: Point

    def number(self, raw: object) -> Value:
        """The scaled number (or text), before state mapping; None if it is not one."""
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
        name = name or self.name
        unit = self.point.unit
        if raw is NO_SUCH or raw is None:
            return [Reading(device, name, None, ts, instance, unit, Quality.BAD)]
        value = self.number(raw)
        if value is None:
            return [Reading(device, name, None, ts, instance, unit, Quality.BAD)]
        out: list[Reading] = []
        if self.point.states and isinstance(value, int) and not isinstance(value, bool):
            out.append(
                Reading(
                    device, name, self.point.states.get(value, f"unknown({value})"), ts, instance
                )
            )
        else:
            out.append(Reading(device, name, value, ts, instance, unit))
        if self.point.bits and isinstance(raw, Bitfield | int):
            word = raw.word if isinstance(raw, Bitfield) else raw
            for bit, bit_name in self.point.bits.items():
                out.append(
                    Reading(device, f"{name}.{bit_name}", bool((word >> bit) & 1), ts, instance)
                )
        return out
