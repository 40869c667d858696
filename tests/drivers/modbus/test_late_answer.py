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
from drivers.tasks import stop_tasks
from tests.drivers.modbus.conftest import HOST

pytestmark = pytest.mark.integration


class SlowResponder:
    """Answers "read holding registers" with ``address * 100 + i`` after ``delays[address]``."""

    def __init__(self, delays: dict[int, float]) -> None:
        self.delays = delays
        self.port = 0
        self._server: asyncio.Server | None = None
        self._answers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await stop_tasks(*self._answers)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while header := await reader.readexactly(7):
                tid, _, length, unit = struct.unpack(">HHHB", header)
                pdu = await reader.readexactly(length - 1)
                task = asyncio.create_task(self._answer(writer, tid, unit, pdu))
                self._answers.add(task)
                task.add_done_callback(self._answers.discard)
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    async def _answer(self, writer: asyncio.StreamWriter, tid: int, unit: int, pdu: bytes) -> None:
        _, address, count = struct.unpack(">BHH", pdu)
        await asyncio.sleep(self.delays.get(address, 0.0))
        words = [address * 100 + i for i in range(count)]
        body = struct.pack(f">BB{count}H", 3, 2 * count, *words)
        writer.write(struct.pack(">HHHB", tid, 0, len(body) + 1, unit) + body)


@pytest.fixture
async def slow_device() -> AsyncIterator[SlowResponder]:
    responder = SlowResponder({1: 0.3, 2: 0.15})
    await responder.start()
    try:
        yield responder
    finally:
        await responder.stop()


async def test_late_answer_is_discarded_and_the_connection_kept(slow_device: SlowResponder) -> None:
    async with ModbusBus.tcp(HOST, slow_device.port, timeout=0.2) as bus:
        with pytest.raises(ModbusTimeout):
            await bus.read_block(1, Table.HOLDING, 1, 1)
        # address 1's answer arrives (at 0.3 s) while this request waits for its own
        assert await bus.read_block(1, Table.HOLDING, 2, 1) == [200]
        assert await bus.read_block(1, Table.HOLDING, 7, 2) == [700, 701]
        assert bus.stats.connects == 1
