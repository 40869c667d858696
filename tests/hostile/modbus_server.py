"""A hostile Modbus TCP server (MBAP framing as in the Modbus Messaging on TCP/IP
Implementation Guide V1.0b, function codes 3 and 4 as in the Modbus Application
Protocol Specification V1.1b3): a panel whose zone count changes at every poll,
one that answers garbage, one that accepts the connection and never answers.

Written from the specification rather than on pymodbus, so that it can misbehave in
ways a conforming server library will not.
"""

from __future__ import annotations

import asyncio
import random
import struct
from dataclasses import dataclass, field

ZONE_COUNT_REGISTER = 2  # docs/alarm-panel-modbus.md: holding register 2


@dataclass
class HostileModbusServer:
    mode: str  # "changing", "garbage" or "silent"
    active: bool = False  # until then, every connection is closed at once
    requests: int = 0
    rng: random.Random = field(default_factory=lambda: random.Random(13))
    server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def start(self) -> HostileModbusServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def close(self) -> None:
        for writer in list(self._writers):
            writer.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while self.active:
                header = await reader.readexactly(7)
                transaction, _protocol, length, unit = struct.unpack(">HHHB", header)
                pdu = await reader.readexactly(length - 1)
                self.requests += 1
                answer = self._answer(transaction, unit, pdu)
                if answer:
                    writer.write(answer)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def _answer(self, transaction: int, unit: int, pdu: bytes) -> bytes:
        if self.mode == "silent":
            return b""
        if self.mode == "garbage":
            size = self.rng.choice([1, 5, 9, 300, 4000])
            return self.rng.randbytes(size)
        function, start, count = struct.unpack(">BHH", pdu[:5])
        words = [
            self.rng.randint(1, 4096) if start + i == ZONE_COUNT_REGISTER else 0
            for i in range(count)
        ]
        body = struct.pack(f">BB{count}H", function, 2 * count, *words)
        return struct.pack(">HHHB", transaction, 0, len(body) + 1, unit) + body
