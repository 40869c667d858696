"""The register map the test servers hold, and the values it must decode to.

Registers are encoded here from the specification (big-endian bytes A B C D laid
out in the named order) with ``struct``, independently of the driver's decoders.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from drivers.modbus import Bitfield, Point, define_point


def wire_registers(code: str, value: float, order: str) -> list[int]:
    """Encode from the specification: big-endian bytes A B C D, laid out as ``order`` says."""
    big = struct.pack(">" + code, value)
    if len(big) == 2 and len(order) == 4:  # 16 bits keep only the byte order of ABCD...
        order = "BA" if order in ("BADC", "DCBA") else "AB"
    laid_out = bytes(big[ord(letter) - ord("A")] for letter in order[: len(big)])
    return [int.from_bytes(laid_out[i : i + 2], "big") for i in range(0, len(laid_out), 2)]


def as_float32(value: float) -> float:
    return float(struct.unpack(">f", struct.pack(">f", value))[0])


@dataclass(frozen=True)
class Entry:
    name: str
    address: int
    data_type: str
    order: str
    raw: float  # what the registers hold
    options: dict[str, Any]

    def point(self, table: str) -> Point:
        return define_point(
            self.name, table, self.address, self.data_type, order=self.order, **self.options
        )


_CODES = {"int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "float32": "f", "bitfield": "H"}
ZONE_BITS = {0: "alarm", 1: "tamper", 2: "fault", 4: "low_battery"}

HOLDING = [
    Entry("temp_raw", 0, "int16", "ABCD", -1234, {}),
    Entry("events", 1, "uint16", "ABCD", 54321, {}),
    Entry("i32_abcd", 2, "int32", "ABCD", -123456789, {}),
    Entry("i32_cdab", 4, "int32", "CDAB", 987654321, {}),
    Entry("u32_badc", 6, "uint32", "BADC", 3000000000, {}),
    Entry("u32_dcba", 8, "uint32", "DCBA", 4000000001, {}),
    Entry("f32_abcd", 10, "float32", "ABCD", 230.5, {}),
    Entry("f32_cdab", 12, "float32", "CDAB", -12.75, {}),
    Entry("u32_abcd", 14, "uint32", "ABCD", 3123456789, {}),
    Entry("i16_ba", 16, "int16", "BA", -2, {}),
    Entry("zone1", 17, "bitfield", "AB", 0b10101, {"bits": ZONE_BITS}),
    Entry("zone2", 18, "bitfield", "AB", 0, {"bits": ZONE_BITS}),
    Entry("battery_v", 19, "uint16", "AB", 1350, {"scale": 0.01}),
]
INPUT = [
    Entry("mains_hz", 0, "float32", "CDAB", 49.95, {}),
    Entry("box_temp", 2, "int16", "AB", -40, {}),
]
COILS = [True, False, True, True, False, False, True, False, False, True]
DISCRETE_INPUTS = [False, True, True, False, True, False, False, False, True, True]


def registers(entries: list[Entry]) -> list[int]:
    words: list[int] = []
    for entry in entries:
        assert entry.address == len(words), f"{entry.name} is not where the map says"
        words += wire_registers(_CODES[entry.data_type], entry.raw, entry.order)
    return words


def expected(entry: Entry) -> object:
    """The value a correct decoder yields for ``entry``."""
    if entry.data_type == "bitfield":
        word = int(entry.raw)
        return Bitfield(word, {name: bool(word >> bit & 1) for bit, name in ZONE_BITS.items()})
    if entry.data_type == "float32":
        return as_float32(entry.raw)
    if "scale" in entry.options:
        return entry.raw * entry.options["scale"]
    return entry.raw


def all_points() -> list[Point]:
    return (
        [entry.point("holding") for entry in HOLDING]
        + [entry.point("input") for entry in INPUT]
        + [define_point(f"coil{i}", "coil", i) for i in range(len(COILS))]
        + [define_point(f"di{i}", "discrete_input", i) for i in range(len(DISCRETE_INPUTS))]
    )


def all_expected() -> dict[str, object]:
    values: dict[str, object] = {e.name: expected(e) for e in HOLDING + INPUT}
    values.update({f"coil{i}": bit for i, bit in enumerate(COILS)})
    values.update({f"di{i}": bit for i, bit in enumerate(DISCRETE_INPUTS)})
    return values
