"""The TCP bus against pymodbus's real server, refereed by mbpoll."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from drivers.backoff import Backoff
from drivers.modbus import (
    Bitfield,
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
    FC_READ_HOLDING,
    HOST,
    SILENT_UNIT,
    MbpollFailed,
    ModbusSim,
    mbpoll_tcp,
)
from tests.realservers import free_port

pytestmark = pytest.mark.integration

PLAN = plan_reads(reg.all_points())


def tcp_bus(sim: ModbusSim, **kwargs: object) -> ModbusBus:
    return ModbusBus.tcp(HOST, sim.port, timeout=0.5, **kwargs)  # type: ignore[arg-type]


def assert_decoded(values: Mapping[str, object], expected: Mapping[str, object]) -> None:
    assert values.keys() == expected.keys()
    for name, want in expected.items():
        if isinstance(want, float):
            assert values[name] == pytest.approx(want, rel=1e-9), name
        else:
            assert values[name] == want, name


async def test_every_type_and_order_decodes_to_the_known_values(tcp_sim: ModbusSim) -> None:
    async with tcp_bus(tcp_sim) as bus:
        assert not bus.connected  # connects lazily
        values = await bus.read(1, PLAN)
        assert_decoded(values, reg.all_expected())
        zone1 = values["zone1"]
        assert isinstance(zone1, Bitfield)
        assert zone1.flags == {"alarm": True, "tamper": False, "fault": True, "low_battery": True}
        assert bus.stats.connects == 1
        assert bus.stats.requests == len(PLAN.requests) == 4


async def test_mbpoll_reads_the_same_values(tcp_sim: ModbusSim) -> None:
    port = tcp_sim.port
    async with tcp_bus(tcp_sim) as bus:
        ours = await bus.read(1, PLAN)
        raw_holding = await bus.read_block(1, Table.HOLDING, 0, 20)
    # 32-bit values mbpoll decodes itself: -B is ABCD, its default "little endian" is CDAB
    assert int((await mbpoll_tcp(port, 1, "-t", "4:int", "-B", "-r", "2"))[0]) == ours["i32_abcd"]
    assert int((await mbpoll_tcp(port, 1, "-t", "4:int", "-r", "4"))[0]) == ours["i32_cdab"]
    u32 = int((await mbpoll_tcp(port, 1, "-t", "4:int", "-B", "-r", "14"))[0])
    assert u32 % 2**32 == ours["u32_abcd"]
    f_abcd = float((await mbpoll_tcp(port, 1, "-t", "4:float", "-B", "-r", "10"))[0])
    assert f_abcd == pytest.approx(ours["f32_abcd"], rel=1e-6)
    f_cdab = float((await mbpoll_tcp(port, 1, "-t", "4:float", "-r", "12"))[0])
    assert f_cdab == pytest.approx(ours["f32_cdab"], rel=1e-6)
    hz = float((await mbpoll_tcp(port, 1, "-t", "3:float", "-r", "0"))[0])
    assert hz == pytest.approx(ours["mains_hz"], rel=1e-6)
    # byte-swapped orders mbpoll cannot decode: the raw words must agree with ours
    words = await mbpoll_tcp(port, 1, "-t", "4:hex", "-r", "0", "-c", "20")
    assert [int(w, 16) for w in words] == raw_holding
    signed = await mbpoll_tcp(port, 1, "-t", "3", "-r", "2")
    box_temp = ours["box_temp"]
    assert isinstance(box_temp, int)
    assert int(signed[0]) % 2**16 == box_temp % 2**16
    coils = await mbpoll_tcp(port, 1, "-t", "0", "-r", "0", "-c", str(len(reg.COILS)))
    assert [c == "1" for c in coils] == [ours[f"coil{i}"] for i in range(len(reg.COILS))]
    inputs = await mbpoll_tcp(port, 1, "-t", "1", "-r", "0", "-c", str(len(reg.DISCRETE_INPUTS)))
    assert [d == "1" for d in inputs] == [ours[f"di{i}"] for i in range(len(reg.DISCRETE_INPUTS))]


async def test_values_changed_in_the_datastore_are_read_back(tcp_sim: ModbusSim) -> None:
    async with tcp_bus(tcp_sim) as bus:
        await bus.read(1, PLAN)
        await tcp_sim.set_holding(1, 4, reg.wire_registers("i", -5, "CDAB"))
        await tcp_sim.set_holding(1, 17, [0b11])
        await tcp_sim.set_coils(1, 1, [True])
        values = await bus.read(1, PLAN)
        assert values["i32_cdab"] == -5
        assert values["zone1"] == Bitfield(
            3, {"alarm": True, "tamper": True, "fault": False, "low_battery": False}
        )
        assert values["coil1"] is True
        assert (await bus.read(2, PLAN))["i32_cdab"] == 987654321  # another unit, untouched
    assert int((await mbpoll_tcp(tcp_sim.port, 1, "-t", "4:int", "-r", "4"))[0]) == -5
    assert (await mbpoll_tcp(tcp_sim.port, 1, "-t", "0", "-r", "1"))[0] == "1"


async def test_adjacent_points_cost_one_request_on_the_server(tcp_sim: ModbusSim) -> None:
    holding = [entry.point("holding") for entry in reg.HOLDING]
    async with tcp_bus(tcp_sim) as bus:
        tcp_sim.accesses.clear()
        values = await bus.read(1, plan_reads(holding))
    assert len(values) == len(reg.HOLDING)
    assert [(a.function_code, a.address, a.count) for a in tcp_sim.accesses] == [
        (FC_READ_HOLDING, 0, 20)
    ]


async def test_reads_of_two_units_do_not_interleave(tcp_sim: ModbusSim) -> None:
    # three points too far apart to merge: three requests per read
    spread = plan_reads([define_point(f"p{a}", "holding", a) for a in (0, 5, 10)])
    assert len(spread.requests) == 3
    async with tcp_bus(tcp_sim) as bus:
        tcp_sim.accesses.clear()
        await asyncio.gather(bus.read(1, spread), bus.read(2, spread), bus.read(1, spread))
    units = [a.unit for a in tcp_sim.accesses]
    assert len(units) == 9
    assert all(units[i] == units[i + 1] == units[i + 2] for i in (0, 3, 6)), units


async def test_illegal_address_is_an_exception_response_and_keeps_the_connection(
    tcp_sim: ModbusSim,
) -> None:
    async with tcp_bus(tcp_sim) as bus:
        await bus.read(1, PLAN)
        with pytest.raises(ModbusExceptionResponse) as caught:
            await bus.read_block(1, Table.HOLDING, 100, 2)
        assert (caught.value.code, caught.value.name) == (2, "ILLEGAL_DATA_ADDRESS")
        assert caught.value.unit == 1
        assert bus.connected
        assert (await bus.read(1, PLAN))["events"] == 54321
        assert (bus.stats.connect_attempts, bus.stats.exception_responses) == (1, 1)
    with pytest.raises(MbpollFailed):  # mbpoll agrees the address is illegal
        await mbpoll_tcp(tcp_sim.port, 1, "-t", "4", "-r", "100")


async def test_silent_unit_times_out_without_dropping_the_gateway(tcp_sim: ModbusSim) -> None:
    async with ModbusBus.tcp(HOST, tcp_sim.port, timeout=0.2) as bus:
        await bus.read(1, PLAN)
        with pytest.raises(ModbusTimeout, match="unit 9"):
            await bus.read_block(SILENT_UNIT, Table.HOLDING, 0, 1)
        assert bus.connected
        assert (await bus.read(2, PLAN))["events"] == 54321
        assert bus.stats.connect_attempts == 1
        # several silent requests in a row look like a half-open connection: reconnect
        for _ in range(3):
            with pytest.raises(ModbusTimeout):
                await bus.read_block(SILENT_UNIT, Table.HOLDING, 0, 1)
        dropped = not bus.connected
        assert dropped
        assert (await bus.read(1, PLAN))["events"] == 54321
        assert bus.stats.connects == 2


async def test_server_loss_then_backoff_then_reconnect(tcp_sim: ModbusSim) -> None:
    backoff = Backoff(0.05, 0.2, jitter=0.25)
    loop = asyncio.get_running_loop()
    async with tcp_bus(tcp_sim, backoff=backoff) as bus:
        await bus.read(1, PLAN)
        await tcp_sim.stop()
        with pytest.raises((ModbusConnectionError, ModbusTimeout)):
            await bus.read(1, PLAN)
        # hammer the dead bus for 0.5 s: attempts are spaced by the backoff, the
        # other reads fail at once without touching the network
        failures = 0
        deadline = loop.time() + 0.5
        while loop.time() < deadline:
            with pytest.raises(ModbusConnectionError):
                await bus.read(1, PLAN)
            failures += 1
            await asyncio.sleep(0.005)
        attempts = bus.stats.connect_attempts - 1
        # delays 0.05, 0.1, 0.2, 0.2 ... (each up to 25 % shorter): 3 to 5 attempts
        assert 2 <= attempts <= 6, attempts
        assert failures > 5 * attempts
        assert backoff.failures >= 3

        await tcp_sim.start_tcp(tcp_sim.port)
        started = loop.time()
        while True:
            try:
                values = await bus.read(1, PLAN)
                break
            except ModbusConnectionError:
                assert loop.time() - started < 0.5, "no reconnect within the capped backoff"
                await asyncio.sleep(0.01)
        assert_decoded(values, reg.all_expected())
        assert backoff.failures == 0  # reset by the first answer
        assert bus.stats.connects == 2


async def test_refused_connection_is_a_connection_error() -> None:
    async with ModbusBus.tcp(HOST, free_port(), timeout=0.5) as bus:
        with pytest.raises(ModbusConnectionError, match="cannot connect"):
            await bus.read(1, PLAN)
        with pytest.raises(ModbusConnectionError, match="next connection attempt in"):
            await bus.read(1, PLAN)
        assert bus.stats.connect_attempts == 1


async def test_read_block_checks_its_arguments(tcp_sim: ModbusSim) -> None:
    async with tcp_bus(tcp_sim) as bus:
        with pytest.raises(ValueError, match="cannot read holding 0\\+126"):
            await bus.read_block(1, Table.HOLDING, 0, 126)
        with pytest.raises(ValueError, match="cannot read coil 65535\\+2"):
            await bus.read_block(1, Table.COIL, 65535, 2)
        with pytest.raises(ValueError, match="unit id 256"):
            await bus.read_block(256, Table.COIL, 0, 1)
        assert bus.stats.requests == 0
