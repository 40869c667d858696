"""Point definitions as data, compiled once into decoders.

A point names a value in one of the four Modbus tables at a 0-based protocol
address. ``define_point`` checks the definition and normalizes its aliases (data
type names, byte and word order spelled ``ABCD``/``CDAB``/``BADC``/``DCBA`` or
``big``/``little``) into a ``Point`` that carries a precompiled decoder: a struct
format, a register count and two swap flags. Decoding a response never looks at a
string again.

Byte and word order, for a 32-bit value whose big-endian bytes are A B C D (A most
significant), as the bytes appear on the wire in register order:

    ABCD  byte_order=big,    word_order=big      (the Modbus default)
    CDAB  byte_order=big,    word_order=little   (mbpoll's "little endian")
    BADC  byte_order=little, word_order=big
    DCBA  byte_order=little, word_order=little

16-bit types only have a byte order (``AB`` or ``BA``); the word order is ignored.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

MAX_ADDRESS = 0xFFFF


class InvalidPointError(ValueError):
    """A point definition that cannot be used; the message names the point."""


class Table(enum.Enum):
    """The four Modbus data tables."""

    COIL = "coil"
    DISCRETE_INPUT = "discrete_input"
    HOLDING = "holding"
    INPUT = "input"

    @property
    def is_bits(self) -> bool:
        return self in (Table.COIL, Table.DISCRETE_INPUT)


class DataType(enum.Enum):
    BOOL = "bool"  # one coil or discrete input
    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    FLOAT32 = "float32"
    BITFIELD = "bitfield"  # one register: the word, plus named bits


# data type -> (struct code, registers); the one place that knows the sizes.
_REGISTER_FORMATS: dict[DataType, tuple[str, int]] = {
    DataType.INT16: ("h", 1),
    DataType.UINT16: ("H", 1),
    DataType.INT32: ("i", 2),
    DataType.UINT32: ("I", 2),
    DataType.FLOAT32: ("f", 2),
    DataType.BITFIELD: ("H", 1),
}

# order alias -> (swap bytes within each register, swap register order)
_ORDER_ALIASES: dict[str, tuple[bool, bool]] = {
    "ABCD": (False, False),
    "CDAB": (False, True),
    "BADC": (True, False),
    "DCBA": (True, True),
    "AB": (False, False),
    "BA": (True, False),
}
_ENDIAN_SWAPS: dict[str, bool] = {"big": False, "little": True}


@dataclass(frozen=True, slots=True)
class Bitfield:
    """A register read as 16 flags: the raw word and the bits the profile named."""

    word: int
    flags: Mapping[str, bool] = field(default_factory=dict, hash=False)

    def bit(self, index: int) -> bool:
        return bool((self.word >> index) & 1)


PointValue: TypeAlias = bool | int | float | Bitfield
# Decodes one point from a response block, given the point's offset in the block.
Decoder: TypeAlias = Callable[[Sequence[Any], int], PointValue]


def _not_compiled(block: Sequence[Any], at: int) -> PointValue:
    raise InvalidPointError("a Point built without define_point() has no decoder")


@dataclass(frozen=True, slots=True)
class Point:
    """A checked point definition with its decoder; build it with ``define_point``."""

    name: str
    table: Table
    address: int
    data_type: DataType
    count: int  # registers, or bits for coils and discrete inputs
    swap_bytes: bool = False
    swap_words: bool = False
    scale: float | None = None
    offset: float | None = None
    bits: tuple[tuple[int, str], ...] = ()
    _decode: Decoder = field(default=_not_compiled, repr=False, compare=False)

    @property
    def end(self) -> int:
        """The first address after this point."""
        return self.address + self.count

    def decode(self, block: Sequence[Any], at: int) -> PointValue:
        """Decode this point from ``block`` where ``block[at]`` is its first element."""
        return self._decode(block, at)

    def encode(self, value: float) -> list[int]:
        """The registers a device holds for ``value`` (the inverse of ``decode``)."""
        if self.table.is_bits:
            raise InvalidPointError(f"point {self.name!r}: encode() is for register points")
        raw = (
            (value - (self.offset or 0)) / self.scale if self.scale else value - (self.offset or 0)
        )
        code, count = _REGISTER_FORMATS[self.data_type]
        as_int = code != "f"
        data = struct.pack(">" + code, round(raw) if as_int else raw)
        words = list(struct.unpack(("<" if self.swap_bytes else ">") + "H" * count, data))
        return words[::-1] if self.swap_words else words


def define_point(
    name: str,
    table: Table | str,
    address: int,
    data_type: DataType | str | None = None,
    *,
    order: str | None = None,
    byte_order: str | None = None,
    word_order: str | None = None,
    scale: float | None = None,
    offset: float | None = None,
    bits: Mapping[int, str] | None = None,
) -> Point:
    """Check a point definition and compile its decoder.

    ``data_type`` defaults to ``bool`` for coils and discrete inputs and ``uint16``
    for registers. Give the order either as ``order`` (ABCD, CDAB, BADC, DCBA; AB or
    BA for 16-bit types) or as ``byte_order`` / ``word_order`` (big or little), not
    both. ``scale`` and ``offset`` make the value ``raw * scale + offset``.
    ``bits`` names bits of a ``bitfield`` (bit 0 is the least significant).
    """
    where = f"point {name!r}"
    if not name:
        raise InvalidPointError("a point needs a name")
    tbl = _enum_value(Table, table, where, "table")
    if tbl.is_bits:
        dtype = _enum_value(DataType, data_type or DataType.BOOL, where, "data type")
    else:
        dtype = _enum_value(DataType, data_type or DataType.UINT16, where, "data type")
    if tbl.is_bits != (dtype is DataType.BOOL):
        raise InvalidPointError(
            f"{where}: data type {dtype.value} does not fit the {tbl.value} table"
        )
    count = 1 if dtype is DataType.BOOL else _REGISTER_FORMATS[dtype][1]
    if not (isinstance(address, int) and 0 <= address <= MAX_ADDRESS + 1 - count):
        raise InvalidPointError(f"{where}: address {address!r} is outside 0..{MAX_ADDRESS}")
    swap_bytes, swap_words = _normalize_order(where, order, byte_order, word_order)
    if dtype in (DataType.BOOL, DataType.BITFIELD) and (scale is not None or offset is not None):
        raise InvalidPointError(f"{where}: scale and offset apply to numbers, not {dtype.value}")
    if scale == 0:
        raise InvalidPointError(f"{where}: a scale of 0 loses the value")
    named_bits = _check_bits(where, dtype, bits)
    if tbl.is_bits and (swap_bytes or swap_words):
        raise InvalidPointError(f"{where}: coils and discrete inputs have no byte order")
    if count == 1:
        swap_words = False  # one register has no word order
    return Point(
        name=name,
        table=tbl,
        address=address,
        data_type=dtype,
        count=count,
        swap_bytes=swap_bytes,
        swap_words=swap_words,
        scale=scale,
        offset=offset,
        bits=named_bits,
        _decode=_compile_decoder(dtype, swap_bytes, swap_words, scale, offset, named_bits),
    )


def _enum_value(kind: type[Any], value: object, where: str, what: str) -> Any:
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise InvalidPointError(f"{where}: unknown {what} {value!r} (one of {choices})") from None


def _normalize_order(
    where: str, order: str | None, byte_order: str | None, word_order: str | None
) -> tuple[bool, bool]:
    if order is not None:
        if byte_order is not None or word_order is not None:
            raise InvalidPointError(f"{where}: give order or byte_order/word_order, not both")
        try:
            return _ORDER_ALIASES[order.upper()]
        except KeyError:
            choices = ", ".join(_ORDER_ALIASES)
            raise InvalidPointError(f"{where}: unknown order {order!r} ({choices})") from None
    swaps = []
    for what, given in (("byte_order", byte_order), ("word_order", word_order)):
        try:
            swaps.append(_ENDIAN_SWAPS[(given or "big").lower()])
        except KeyError:
            raise InvalidPointError(f"{where}: {what} {given!r} is not big or little") from None
    return swaps[0], swaps[1]


def _check_bits(
    where: str, dtype: DataType, bits: Mapping[int, str] | None
) -> tuple[tuple[int, str], ...]:
    if not bits:
        return ()
    if dtype is not DataType.BITFIELD:
        raise InvalidPointError(f"{where}: named bits need the bitfield data type")
    if len(set(bits.values())) != len(bits):
        raise InvalidPointError(f"{where}: two bits share a name")
    for index, bit_name in bits.items():
        if not (isinstance(index, int) and 0 <= index <= 15) or not bit_name:
            raise InvalidPointError(
                f"{where}: bit {index!r}: {bit_name!r} is not a named bit 0..15"
            )
    return tuple(sorted(bits.items()))


def _compile_decoder(
    dtype: DataType,
    swap_bytes: bool,
    swap_words: bool,
    scale: float | None,
    offset: float | None,
    named_bits: tuple[tuple[int, str], ...],
) -> Decoder:
    if dtype is DataType.BOOL:
        return lambda block, at: bool(block[at])
    code, count = _REGISTER_FORMATS[dtype]
    words_in = struct.Struct(("<" if swap_bytes else ">") + "H" * count)
    value_out = struct.Struct(">" + code)
    step = -1 if swap_words else 1

    def raw(block: Sequence[Any], at: int) -> Any:
        words = block[at : at + count][::step]
        return value_out.unpack(words_in.pack(*words))[0]

    if dtype is DataType.BITFIELD:

        def bitfield(block: Sequence[Any], at: int) -> Bitfield:
            word = raw(block, at)
            return Bitfield(word, {name: bool((word >> i) & 1) for i, name in named_bits})

        return bitfield
    if scale is None and offset is None:
        return raw
    factor = 1 if scale is None else scale
    shift = 0 if offset is None else offset
    return lambda block, at: raw(block, at) * factor + shift
