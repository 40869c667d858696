"""A timed-out request's late answer must not be taken for the next request's answer.

The bus keeps a TCP connection after a timeout, which is only safe if a late answer
is discarded by its transaction id. pymodbus's own server cannot produce a late
answer correctly (it answers a slow request with the transaction id of the request
that came in after it), so a scripted Modbus TCP responder plays the slow device.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator

import pytest

from drivers.modbus import ModbusTimeout, Table
from drivers.modbus.bus import ModbusBus
from tests.drivers.modbus.conftest import HOST

pytestmark = pytest.mark.integration


class SlowResponder:
    """Answers "read holding registers" with ``address * 100 + i``; a request for one of
    the ``late`` addresses is answered only when the next request comes in, just before
    that one's answer: a late answer by order, not by a race against the clock (a loaded
    machine stretches any delay)."""

    def __init__(self, late: set[int]) -> None:
        self.late = late
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held: list[bytes] = []
        try:
            while header := await reader.readexactly(7):
                tid, _, length, unit = struct.unpack(">HHHB", header)
                pdu = await reader.readexactly(length - 1)
                _, address, count = struct.unpack(">BHH", pdu)
                answer = self._answer(tid, unit, address, count)
                if address in self.late:
                    held.append(answer)
                    continue
                writer.write(b"".join(held) + answer)
                held.clear()
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @staticmethod
    def _answer(tid: int, unit: int, address: int, count: int) -> bytes:
        words = [address * 100 + i for i in range(count)]
        body = struct.pack(f">BB{count}H", 3, 2 * count, *words)
        return struct.pack(">HHHB", tid, 0, len(body) + 1, unit) + body


@pytest.fixture
async def slow_device() -> AsyncIterator[SlowResponder]:
    responder = SlowResponder(late={1})
    await responder.start()
    try:
        yield responder
    finally:
        await responder.stop()


async def test_late_answer_is_discarded_and_the_connection_kept(slow_device: SlowResponder) -> None:
    async with ModbusBus.tcp(HOST, slow_device.port, timeout=1.0) as bus:
        with pytest.raises(ModbusTimeout):
            await bus.read_block(1, Table.HOLDING, 1, 1)
        # address 1's answer arrives while this request waits for its own, just before it
        assert await bus.read_block(1, Table.HOLDING, 2, 1) == [200]
        assert await bus.read_block(1, Table.HOLDING, 7, 2) == [700, 701]
        assert bus.stats.connects == 1
