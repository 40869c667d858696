"""One Modbus bus (a TCP gateway or a serial line), shared by several unit ids.

``ModbusBus.tcp(...)`` and ``ModbusBus.rtu(...)`` build a bus on pymodbus's async
clients. The bus connects lazily on the first request, serializes every request
behind one lock (a serial line carries one frame at a time; a TCP gateway usually
forwards to such a line), keeps a gap between frames on RTU, and converts pymodbus
results and exceptions into the tree in ``drivers.modbus.errors``.

pymodbus's own reconnect task is disabled (``reconnect_delay=0``): reconnecting is
decided here, on the next request after a failure, spaced by ``Backoff``.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.client.base import ModbusBaseClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.framer import FramerType

from drivers.backoff import Backoff
from drivers.modbus.errors import (
    ModbusConnectionError,
    ModbusExceptionResponse,
    ModbusTimeout,
)
from drivers.modbus.plan import MAX_READ_BITS, MAX_READ_REGISTERS, ReadPlan
from drivers.modbus.points import MAX_ADDRESS, PointValue, Table

DEFAULT_TIMEOUT = 1.0
DEFAULT_RTU_GAP = 0.030  # seconds of silence between RTU frames, as Home Assistant uses
TCP_TIMEOUTS_BEFORE_RECONNECT = 3

_PARITIES = {"N": "N", "E": "E", "O": "O", "NONE": "N", "EVEN": "E", "ODD": "O"}

_READS: dict[Table, Callable[[ModbusBaseClient, int, int, int], Awaitable[Any]]] = {
    Table.COIL: lambda c, address, count, unit: c.read_coils(address, count=count, device_id=unit),
    Table.DISCRETE_INPUT: lambda c, address, count, unit: c.read_discrete_inputs(
        address, count=count, device_id=unit
    ),
    Table.HOLDING: lambda c, address, count, unit: c.read_holding_registers(
        address, count=count, device_id=unit
    ),
    Table.INPUT: lambda c, address, count, unit: c.read_input_registers(
        address, count=count, device_id=unit
    ),
}


@dataclass(slots=True)
class BusStats:
    """Counters since the bus was made, for status pages and tests."""

    connect_attempts: int = 0
    connects: int = 0
    requests: int = 0
    timeouts: int = 0
    exception_responses: int = 0
    connection_errors: int = 0


class ModbusBus:
    """A Modbus bus that reads points of any unit on it; see the module docstring."""

    def __init__(
        self,
        make_client: Callable[[], ModbusBaseClient],
        *,
        label: str,
        timeout: float,
        inter_frame_gap: float,
        timeouts_before_reconnect: int | None,
        backoff: Backoff | None = None,
    ) -> None:
        if timeout <= 0 or inter_frame_gap < 0:
            raise ValueError(f"{label}: timeout must be > 0 and inter_frame_gap >= 0")
        self.label = label
        self.timeout = timeout
        self.inter_frame_gap = inter_frame_gap
        self.stats = BusStats()
        self._make_client = make_client
        self._timeouts_before_reconnect = timeouts_before_reconnect
        self._backoff = backoff or Backoff(0.5, 30.0, jitter=0.25)
        self._lock = asyncio.Lock()
        self._client: ModbusBaseClient | None = None
        self._retry_at = 0.0  # loop time before which no reconnect is attempted
        self._last_failure = ""
        self._last_frame_at = float("-inf")
        self._timeouts_in_row = 0

    @classmethod
    def tcp(
        cls,
        host: str,
        port: int = 502,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        inter_frame_gap: float = 0.0,
        backoff: Backoff | None = None,
    ) -> ModbusBus:
        """A Modbus TCP device or gateway. ``timeout`` bounds each request and connect."""
        label = f"modbus tcp {host}:{port}"

        def make_client() -> ModbusBaseClient:
            return AsyncModbusTcpClient(
                host, port=port, name=label, timeout=timeout, retries=0, reconnect_delay=0
            )

        return cls(
            make_client,
            label=label,
            timeout=timeout,
            inter_frame_gap=inter_frame_gap,
            timeouts_before_reconnect=TCP_TIMEOUTS_BEFORE_RECONNECT,
            backoff=backoff,
        )

    @classmethod
    def rtu(
        cls,
        port_path: str,
        *,
        baudrate: int = 9600,
        parity: str = "N",
        stopbits: int = 1,
        bytesize: int = 8,
        timeout: float = DEFAULT_TIMEOUT,
        inter_frame_gap: float = DEFAULT_RTU_GAP,
        backoff: Backoff | None = None,
    ) -> ModbusBus:
        """Modbus RTU on a serial line. ``parity``: N, E, O (or none, even, odd)."""
        label = f"modbus rtu {port_path}"
        parity_code = _PARITIES.get(parity.upper())
        if parity_code is None or stopbits not in (1, 2) or bytesize not in (7, 8):
            raise ValueError(
                f"{label}: parity {parity!r} must be N/E/O, stopbits 1 or 2, bytesize 7 or 8"
            )
        if baudrate <= 0:
            raise ValueError(f"{label}: baudrate {baudrate} must be positive")

        def make_client() -> ModbusBaseClient:
            return AsyncModbusSerialClient(
                port_path,
                framer=FramerType.RTU,
                baudrate=baudrate,
                parity=parity_code,
                stopbits=stopbits,
                bytesize=bytesize,
                name=label,
                timeout=timeout,
                retries=0,
                reconnect_delay=0,
            )

        # A unit that does not answer says nothing about the line: never drop the port.
        return cls(
            make_client,
            label=label,
            timeout=timeout,
            inter_frame_gap=inter_frame_gap,
            timeouts_before_reconnect=None,
            backoff=backoff,
        )

    def __repr__(self) -> str:
        return f"<ModbusBus {self.label}>"

    async def __aenter__(self) -> ModbusBus:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    async def read(self, unit: int, plan: ReadPlan) -> dict[str, PointValue]:
        """Run the plan's requests for one unit, back to back under the bus lock."""
        async with self._lock:
            return await plan.run(functools.partial(self._request, unit))

    async def read_block(
        self, unit: int, table: Table, address: int, count: int
    ) -> list[int] | list[bool]:
        """Read raw registers (16-bit ints) or bits (bools) in one request."""
        limit = MAX_READ_BITS if table.is_bits else MAX_READ_REGISTERS
        if not (1 <= count <= limit and 0 <= address <= MAX_ADDRESS + 1 - count):
            raise ValueError(f"{self.label}: cannot read {table.value} {address}+{count}")
        async with self._lock:
            return await self._request(unit, table, address, count)

    async def close(self) -> None:
        """Close the connection; a later request connects again."""
        self._discard_client()

    async def _request(
        self, unit: int, table: Table, address: int, count: int
    ) -> list[int] | list[bool]:
        if not 0 <= unit <= 255:
            raise ValueError(f"{self.label}: unit id {unit} is outside 0..255")
        client = await self._connected_client()
        await self._keep_frame_gap()
        self.stats.requests += 1
        try:
            response = await _READS[table](client, address, count, unit)
        except ModbusIOException as exc:
            raise self._no_answer(client, f"unit {unit} {table.value} {address}+{count}") from exc
        except (ConnectionException, OSError) as exc:
            raise self._lost(f"{self.label}: connection failed: {exc}") from exc
        finally:
            self._last_frame_at = asyncio.get_running_loop().time()
        self._answered()
        if response.isError():
            self.stats.exception_responses += 1
            code = int(getattr(response, "exception_code", 0))
            raise ModbusExceptionResponse(
                code, unit=unit, table=table, address=address, count=count
            )
        if table.is_bits:
            return [bool(bit) for bit in response.bits[:count]]
        return [int(word) for word in response.registers]

    async def _connected_client(self) -> ModbusBaseClient:
        if self._client is not None and self._client.connected:
            return self._client
        self._discard_client()  # closed by the peer while idle, or never opened
        wait = self._retry_at - asyncio.get_running_loop().time()
        if wait > 0:
            raise ModbusConnectionError(
                f"{self.label}: next connection attempt in {wait:.2f} s "
                f"(last failure: {self._last_failure})"
            )
        client = self._make_client()
        # pymodbus would close a TCP connection after a few timeouts on its own;
        # that decision is taken here (see _no_answer).
        client.set_max_no_responses(2**31)
        self.stats.connect_attempts += 1
        try:
            connected = await client.connect()
            reason = "refused or timed out"
        except (OSError, ModbusException) as exc:
            connected, reason = False, str(exc)
        except asyncio.CancelledError:
            client.close()
            raise
        if not connected:
            client.close()
            raise self._lost(f"{self.label}: cannot connect: {reason}")
        self.stats.connects += 1
        self._client = client
        return client

    async def _keep_frame_gap(self) -> None:
        if self.inter_frame_gap:
            wait = self._last_frame_at + self.inter_frame_gap - asyncio.get_running_loop().time()
            if wait > 0:
                await asyncio.sleep(wait)

    def _answered(self) -> None:
        """Any answer, even an exception response, proves the connection works."""
        self._timeouts_in_row = 0
        self._backoff.reset()

    def _no_answer(self, client: ModbusBaseClient, what: str) -> Exception:
        if not client.connected:
            return self._lost(f"{self.label}: connection lost waiting for {what}")
        self.stats.timeouts += 1
        self._timeouts_in_row += 1
        limit = self._timeouts_before_reconnect
        if limit is not None and self._timeouts_in_row >= limit:
            # Several silent requests in a row on TCP: likely a half-open connection.
            self._discard_client()
            self._timeouts_in_row = 0
        return ModbusTimeout(f"{self.label}: no answer from {what} within {self.timeout} s")

    def _lost(self, message: str) -> ModbusConnectionError:
        self.stats.connection_errors += 1
        self._discard_client()
        self._last_failure = message
        self._retry_at = asyncio.get_running_loop().time() + self._backoff.next_delay()
        return ModbusConnectionError(message)

    def _discard_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
