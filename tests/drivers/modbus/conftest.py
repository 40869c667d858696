"""Real Modbus servers for the driver tests: pymodbus's own server over TCP and over a
socat pty pair (RTU), holding the map in registers.py, plus mbpoll as a referee."""

from __future__ import annotations

import asyncio
import functools
import re
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from tests.drivers.modbus import registers as reg
from tests.realservers import Server, free_port, which

HOST = "127.0.0.1"
UNITS = (1, 2)
SILENT_UNIT = 9  # configured on the server, but its answers never leave it
BAUDRATE = 19200
FC_READ_HOLDING = 3


@dataclass(frozen=True)
class Access:
    """One request as the server's datastore saw it."""

    unit: int
    function_code: int
    address: int
    count: int  # registers; for coils and discrete inputs, 16-bit words of them
    at: float  # loop time


class ModbusSim:
    """pymodbus's server with the test register map on units 1 and 2 (and a silent 9).

    Every datastore access is logged in ``accesses``, so tests can count requests
    on the server side, independently of the client under test.
    """

    def __init__(self) -> None:
        self.accesses: list[Access] = []
        self.server: ModbusTcpServer | ModbusSerialServer | None = None
        self.port = 0

    def devices(self) -> list[SimDevice]:
        bits = 16  # bit blocks are whole registers: pad to 16 bits
        return [
            SimDevice(
                id=unit,
                simdata=(
                    [SimData(0, values=_pad(reg.COILS, bits), datatype=DataType.BITS)],
                    [SimData(0, values=_pad(reg.DISCRETE_INPUTS, bits), datatype=DataType.BITS)],
                    [SimData(0, values=reg.registers(reg.HOLDING), datatype=DataType.REGISTERS)],
                    [SimData(0, values=reg.registers(reg.INPUT), datatype=DataType.REGISTERS)],
                ),
                action=functools.partial(self._record, unit),
            )
            for unit in (*UNITS, SILENT_UNIT)
        ]

    async def _record(
        self,
        unit: int,
        function_code: int,
        _start: int,
        address: int,
        count: int,
        _registers: list[int],
        _values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        now = asyncio.get_running_loop().time()
        self.accesses.append(Access(unit, function_code, address, count, now))
        return None

    def _silence(self, unit_at: int) -> Callable[[bool, bytes], bytes]:
        def trace_packet(sending: bool, data: bytes) -> bytes:
            if sending and len(data) > unit_at and data[unit_at] == SILENT_UNIT:
                return b""  # a unit that never answers
            return data

        return trace_packet

    async def start_tcp(self, port: int | None = None) -> None:
        self.port = port or free_port()
        # The unit id sits after the 6-byte MBAP header in a Modbus TCP frame.
        self.server = ModbusTcpServer(
            self.devices(), address=(HOST, self.port), trace_packet=self._silence(6)
        )
        await self.server.serve_forever(background=True)

    async def start_rtu(self, tty: Path) -> None:
        self.server = ModbusSerialServer(
            self.devices(),
            framer=FramerType.RTU,
            port=str(tty),
            baudrate=BAUDRATE,
            trace_packet=self._silence(0),
        )
        await self.server.serve_forever(background=True)

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.shutdown()  # type: ignore[no-untyped-call]
            self.server = None

    async def set_holding(self, unit: int, address: int, words: list[int]) -> None:
        assert self.server is not None
        await self.server.async_setValues(unit, 3, address, words)

    async def set_coils(self, unit: int, address: int, bits: list[bool]) -> None:
        assert self.server is not None
        await self.server.async_setValues(unit, 1, address, bits)


def _pad(bits: list[bool], size: int) -> list[bool]:
    return bits + [False] * (-len(bits) % size)


@pytest.fixture
async def tcp_sim() -> AsyncIterator[ModbusSim]:
    sim = ModbusSim()
    await sim.start_tcp()
    try:
        yield sim
    finally:
        await sim.stop()


class SocatPtyPair(Server):
    """socat joining two pseudo-terminals: a serial line without hardware."""

    name = "socat"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.server_end = workdir / "server-tty"
        self.client_end = workdir / "client-tty"

    def command(self) -> list[str]:
        return [
            which("socat"), "-d", "-d",
            f"pty,raw,echo=0,link={self.server_end}",
            f"pty,raw,echo=0,link={self.client_end}",
        ]  # fmt: skip

    def ready(self) -> bool:
        return self.server_end.exists() and self.client_end.exists()


@pytest.fixture
def pty_pair(tmp_path: Path) -> Iterator[SocatPtyPair]:
    pair = SocatPtyPair(tmp_path / "socat")
    pair.start()
    try:
        yield pair
    finally:
        pair.stop()


@pytest.fixture
async def rtu_sim(pty_pair: SocatPtyPair) -> AsyncIterator[ModbusSim]:
    sim = ModbusSim()
    await sim.start_rtu(pty_pair.server_end)
    try:
        yield sim
    finally:
        await sim.stop()


class MbpollFailed(Exception):
    def __init__(self, returncode: int, output: str) -> None:
        self.returncode = returncode
        super().__init__(f"mbpoll exited with {returncode}:\n{output}")


async def mbpoll(*args: str) -> list[str]:
    """Run one mbpoll poll (0-based addresses) and return the values it printed."""
    proc = await asyncio.create_subprocess_exec(
        which("mbpoll"), "-0", "-1", *args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 10)
    text = out.decode()
    if proc.returncode:
        raise MbpollFailed(proc.returncode, text)
    return re.findall(r"^\[\d+\]:\s+(\S+)", text, re.MULTILINE)


async def mbpoll_tcp(port: int, unit: int, *args: str) -> list[str]:
    return await mbpoll("-m", "tcp", "-p", str(port), "-a", str(unit), *args, HOST)


async def mbpoll_rtu(tty: Path, unit: int, *args: str) -> list[str]:
    return await mbpoll(
        "-m", "rtu", "-b", str(BAUDRATE), "-P", "none", "-a", str(unit), *args, str(tty)
    )  # fmt: skip
