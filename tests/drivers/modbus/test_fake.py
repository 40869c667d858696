"""The in-process fake bus answers like a device: values, exceptions, silence."""

from __future__ import annotations

import pytest

from drivers.modbus import (
    Bitfield,
    FakeModbusBus,
    ModbusConnectionError,
    ModbusExceptionResponse,
    ModbusReader,
    ModbusTimeout,
    Table,
    define_point,
    plan_reads,
)

POINTS = [
    define_point("battery_v", "input", 0, "uint16", scale=0.01),
    define_point("load", "input", 1, "float32", order="CDAB"),
    define_point("zone1", "holding", 0, "bitfield", bits={0: "alarm", 1: "tamper"}),
    define_point("mains_ok", "discrete_input", 4),
]
PLAN = plan_reads(POINTS)


def loaded_bus() -> FakeModbusBus:
    bus = FakeModbusBus()
    bus.set_point(1, POINTS[0], 13.5)
    bus.set_point(1, POINTS[1], 42.25)
    bus.set_values(1, Table.HOLDING, 0, [0b10])
    bus.set_point(1, POINTS[3], True)
    return bus


async def test_reads_what_was_set_through_the_same_plan() -> None:
    bus = loaded_bus()
    reader: ModbusReader = bus
    values = await reader.read(1, PLAN)
    assert values == {
        "battery_v": pytest.approx(13.5),
        "load": 42.25,
        "zone1": Bitfield(2, {"alarm": False, "tamper": True}),
        "mains_ok": True,
    }
    assert [(u, t, a, c) for u, t, a, c in bus.requests] == [
        (1, Table.DISCRETE_INPUT, 4, 1),
        (1, Table.HOLDING, 0, 1),
        (1, Table.INPUT, 0, 3),
    ]


async def test_unset_address_is_illegal_address_and_unknown_unit_is_silent() -> None:
    bus = loaded_bus()
    with pytest.raises(ModbusExceptionResponse) as caught:
        await bus.read_block(1, Table.HOLDING, 0, 2)
    assert (caught.value.code, caught.value.name) == (2, "ILLEGAL_DATA_ADDRESS")
    with pytest.raises(ModbusTimeout):
        await bus.read(7, PLAN)


async def test_told_failures_and_recovery() -> None:
    bus = loaded_bus()
    bus.answer_exception(1, 6)
    with pytest.raises(ModbusExceptionResponse, match="SERVER_DEVICE_BUSY"):
        await bus.read(1, PLAN)
    bus.stop_answering(1)
    with pytest.raises(ModbusTimeout):
        await bus.read(1, PLAN)
    bus.lose_bus()
    with pytest.raises(ModbusConnectionError):
        await bus.read(1, PLAN)
    bus.recover()
    assert (await bus.read(1, PLAN))["mains_ok"] is True
    await bus.close()
    assert bus.closed
