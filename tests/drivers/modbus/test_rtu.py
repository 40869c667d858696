"""The RTU bus over a socat pty pair against pymodbus's serial server, refereed by mbpoll."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from drivers.modbus import (
    ModbusConnectionError,
    ModbusExceptionResponse,
    ModbusTimeout,
    Table,
    define_point,
    plan_reads,
)
from drivers.modbus.bus import ModbusBus
from tests.drivers.modbus import registers as reg
from tests.drivers.modbus.conftest import (
    BAUDRATE,
    SILENT_UNIT,
    ModbusSim,
    SocatPtyPair,
    mbpoll_rtu,
)
from tests.drivers.modbus.test_tcp import PLAN, assert_decoded

SPREAD = plan_reads([define_point(f"p{a}", "holding", a) for a in (0, 5, 10)])


def rtu_bus(tty: Path, **kwargs: object) -> ModbusBus:
    options: dict[str, object] = {"baudrate": BAUDRATE, "parity": "none", "timeout": 0.3}
    options.update(kwargs)
    return ModbusBus.rtu(str(tty), **options)  # type: ignore[arg-type]


@pytest.mark.integration
async def test_units_on_one_line_decode_and_mbpoll_agrees(
    rtu_sim: ModbusSim, pty_pair: SocatPtyPair
) -> None:
    tty = pty_pair.client_end
    async with rtu_bus(tty) as bus:
        ours = await bus.read(1, PLAN)
        assert_decoded(ours, reg.all_expected())
        assert_decoded(await bus.read(2, PLAN), reg.all_expected())
        raw = await bus.read_block(2, Table.HOLDING, 0, 20)
        assert bus.stats.connects == 1
    # mbpoll opens the same line once our bus has let go of it
    assert int((await mbpoll_rtu(tty, 1, "-t", "4:int", "-B", "-r", "2"))[0]) == ours["i32_abcd"]
    f_cdab = float((await mbpoll_rtu(tty, 1, "-t", "4:float", "-r", "12"))[0])
    assert f_cdab == pytest.approx(ours["f32_cdab"], rel=1e-6)
    words = await mbpoll_rtu(tty, 2, "-t", "4:hex", "-r", "0", "-c", "20")
    assert [int(w, 16) for w in words] == raw
    coils = await mbpoll_rtu(tty, 1, "-t", "0", "-r", "0", "-c", str(len(reg.COILS)))
    assert [c == "1" for c in coils] == reg.COILS


@pytest.mark.integration
async def test_unit_nobody_answers_times_out_and_the_line_stays_open(
    rtu_sim: ModbusSim, pty_pair: SocatPtyPair
) -> None:
    async with rtu_bus(pty_pair.client_end) as bus:
        with pytest.raises(ModbusTimeout, match="unit 9"):
            await bus.read(SILENT_UNIT, PLAN)
        for _ in range(3):  # unlike TCP, silence never closes a serial line
            with pytest.raises(ModbusTimeout):
                await bus.read_block(SILENT_UNIT, Table.HOLDING, 0, 1)
        assert bus.connected
        assert (await bus.read(1, PLAN))["events"] == 54321
        assert bus.stats.connect_attempts == 1
        assert bus.stats.timeouts == 4


@pytest.mark.integration
async def test_exception_response_over_rtu(rtu_sim: ModbusSim, pty_pair: SocatPtyPair) -> None:
    async with rtu_bus(pty_pair.client_end) as bus:
        with pytest.raises(ModbusExceptionResponse) as caught:
            await bus.read_block(1, Table.INPUT, 0, 10)
        assert caught.value.code == 2
        assert await bus.read_block(1, Table.INPUT, 2, 1) == reg.registers(reg.INPUT)[2:]
        assert bus.stats.connect_attempts == 1


@pytest.mark.integration
@pytest.mark.parametrize(
    ("gap", "min_spacing", "max_spacing"), [(0.05, 0.045, None), (0.0, None, 0.04)]
)
async def test_inter_frame_gap_spaces_requests_on_the_line(
    rtu_sim: ModbusSim,
    pty_pair: SocatPtyPair,
    gap: float,
    min_spacing: float | None,
    max_spacing: float | None,
) -> None:
    async with rtu_bus(pty_pair.client_end, inter_frame_gap=gap) as bus:
        await bus.read(1, SPREAD)
        rtu_sim.accesses.clear()
        await bus.read(1, SPREAD)
    times = [a.at for a in rtu_sim.accesses]
    assert len(times) == 3
    spacing = [b - a for a, b in itertools.pairwise(times)]
    if min_spacing is not None:
        assert min(spacing) >= min_spacing, spacing
    if max_spacing is not None:
        assert max(spacing) < max_spacing, spacing


async def test_missing_serial_port_is_a_connection_error(tmp_path: Path) -> None:
    async with rtu_bus(tmp_path / "no-such-tty") as bus:
        with pytest.raises(ModbusConnectionError, match="cannot connect"):
            await bus.read(1, PLAN)
        assert not bus.connected


def test_serial_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="parity 'X'"):
        ModbusBus.rtu("/dev/ttyUSB0", parity="X")
    with pytest.raises(ValueError, match="baudrate 0"):
        ModbusBus.rtu("/dev/ttyUSB0", baudrate=0)
    bus = ModbusBus.rtu("/dev/ttyUSB0", parity="even", stopbits=2)
    assert bus.inter_frame_gap == 0.03
