"""Point definitions: checks, aliases, and decoding against independent encoders."""

from __future__ import annotations

import math
import struct
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pymodbus.client.mixin import ModbusClientMixin

from drivers.modbus import Bitfield, DataType, InvalidPointError, Point, Table, define_point
from tests.drivers.modbus.registers import wire_registers

PM = ModbusClientMixin.DATATYPE

# data type -> (struct code, pymodbus data type, strategy of values)
TYPES = {
    "int16": ("h", PM.INT16, st.integers(-(2**15), 2**15 - 1)),
    "uint16": ("H", PM.UINT16, st.integers(0, 2**16 - 1)),
    "int32": ("i", PM.INT32, st.integers(-(2**31), 2**31 - 1)),
    "uint32": ("I", PM.UINT32, st.integers(0, 2**32 - 1)),
    "float32": ("f", PM.FLOAT32, st.floats(width=32, allow_nan=False)),
}
ORDERS_32 = ["ABCD", "CDAB", "BADC", "DCBA"]


def same_value(a: object, b: float) -> bool:
    assert isinstance(a, (int, float))
    return struct.pack(">d", a) == struct.pack(">d", b)  # tells -0.0 from 0.0


@given(data=st.data())
@pytest.mark.parametrize("type_name", list(TYPES))
@pytest.mark.parametrize("order", ORDERS_32)
def test_decode_round_trips_every_type_and_order(
    type_name: str, order: str, data: st.DataObject
) -> None:
    code, _, values = TYPES[type_name]
    value = data.draw(values)
    point = define_point("p", "holding", 10, type_name, order=order)
    registers = wire_registers(code, value, order)
    block = [0xDEAD, *registers, 0xBEEF]  # the point sits inside a larger answer
    decoded = point.decode(block, 1)
    assert same_value(decoded, value)
    assert point.encode(value) == registers


@given(data=st.data())
@pytest.mark.parametrize("type_name", list(TYPES))
@pytest.mark.parametrize("word_order", ["big", "little"])
def test_decode_agrees_with_pymodbus_conversions(
    type_name: str, word_order: Literal["big", "little"], data: st.DataObject
) -> None:
    _, pm_type, values = TYPES[type_name]
    value = data.draw(values)
    registers = ModbusClientMixin.convert_to_registers(value, pm_type, word_order=word_order)
    point = define_point("p", "input", 0, type_name, byte_order="big", word_order=word_order)
    assert same_value(point.decode(registers, 0), value)
    back = ModbusClientMixin.convert_from_registers(
        point.encode(value), pm_type, word_order=word_order
    )
    assert same_value(back, value)


@pytest.mark.parametrize(
    ("spelled", "canonical"),
    [
        ({"byte_order": "big", "word_order": "big"}, "ABCD"),
        ({"byte_order": "big", "word_order": "little"}, "CDAB"),
        ({"byte_order": "little", "word_order": "big"}, "BADC"),
        ({"byte_order": "little", "word_order": "little"}, "DCBA"),
        ({}, "ABCD"),
        ({"order": "cdab"}, "CDAB"),
    ],
)
def test_order_aliases_normalize_to_the_same_decoder(
    spelled: dict[str, Any], canonical: str
) -> None:
    a = define_point("a", "holding", 0, "int32", **spelled)
    b = define_point("b", "holding", 0, "int32", order=canonical)
    assert (a.swap_bytes, a.swap_words) == (b.swap_bytes, b.swap_words)
    registers = wire_registers("i", -123456789, canonical)
    assert a.decode(registers, 0) == -123456789


def test_sixteen_bit_byte_order() -> None:
    assert define_point("p", "holding", 0, "int16", order="BA").decode([0x3412], 0) == 0x1234
    assert (
        define_point("p", "holding", 0, "uint16", byte_order="little").decode([0xFEFF], 0) == 0xFFFE
    )
    # word order means nothing for one register
    assert define_point("p", "holding", 0, "uint16", word_order="little").decode([7], 0) == 7


def test_nan_float_decodes_to_nan() -> None:
    point = define_point("p", "holding", 0, "float32")
    assert math.isnan(point.decode([0x7FC0, 0x0000], 0))  # type: ignore[arg-type]


def test_scale_and_offset() -> None:
    volts = define_point("v", "input", 5, "uint16", scale=0.1)
    assert volts.decode([2305], 0) == pytest.approx(230.5)
    celsius = define_point("t", "input", 5, "int16", scale=0.5, offset=-40)
    assert celsius.decode([struct.unpack(">H", struct.pack(">h", -20))[0]], 0) == -50.0
    assert celsius.encode(-50.0) == [0xFFEC]


def test_bitfield_gives_word_and_named_bits() -> None:
    zone = define_point(
        "zone1", "holding", 3, "bitfield", bits={0: "alarm", 1: "tamper", 4: "bypass"}
    )
    value = zone.decode([0b10010], 0)
    assert value == Bitfield(0b10010, {"alarm": False, "tamper": True, "bypass": True})
    assert isinstance(value, Bitfield)
    assert value.bit(4)
    assert not value.bit(3)
    plain = define_point("z", "holding", 3, "bitfield").decode([0x8001], 0)
    assert plain == Bitfield(0x8001, {})


def test_a_point_built_by_hand_refuses_to_decode() -> None:
    with pytest.raises(InvalidPointError, match="without define_point"):
        Point("p", Table.HOLDING, 0, DataType.UINT16, 1).decode([1], 0)


def test_bits_tables_default_to_bool() -> None:
    coil = define_point("relay", Table.COIL, 7)
    assert coil.data_type is DataType.BOOL
    assert coil.count == 1
    assert coil.decode([False, True], 1) is True
    assert define_point("d", "discrete_input", 0).decode([0], 0) is False


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"table": "holdings"}, "unknown table 'holdings'"),
        ({"data_type": "int64"}, "unknown data type 'int64'"),
        ({"data_type": "bool"}, "does not fit the holding table"),
        ({"table": "coil", "data_type": "uint16"}, "does not fit the coil table"),
        ({"address": -1}, "outside 0..65535"),
        ({"address": 65535, "data_type": "int32"}, "outside 0..65535"),
        ({"order": "ACBD"}, "unknown order 'ACBD'"),
        ({"order": "ABCD", "word_order": "big"}, "not both"),
        ({"byte_order": "middle"}, "byte_order 'middle' is not big or little"),
        ({"data_type": "bitfield", "scale": 2}, "scale and offset apply to numbers"),
        ({"scale": 0}, "a scale of 0"),
        ({"bits": {0: "alarm"}}, "named bits need the bitfield"),
        ({"data_type": "bitfield", "bits": {16: "x"}}, "not a named bit 0..15"),
        ({"data_type": "bitfield", "bits": {0: "x", 1: "x"}}, "two bits share a name"),
        ({"table": "coil", "order": "BA"}, "have no byte order"),
    ],
)
def test_bad_definitions_are_rejected_with_the_point_name(
    kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {"table": "holding", "address": 0, "data_type": None}
    args.update(kwargs)
    with pytest.raises(InvalidPointError, match="point 'battery'") as caught:
        define_point("battery", **args)  # type: ignore[arg-type]
    assert message in str(caught.value)
