"""A panel's path to its receiver, over TCP or UDP: send one message, wait for the
answer to it.

DC-09 runs over either (ANSI/SIA DC-09-2013, 5.3): over TCP the panel keeps its
connection and opens a new one when it broke; over UDP each message is one datagram
and so is each answer. Outgoing sockets are bound to the panel's own address, so the
receiver sees each panel come from its address, as on a LAN.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from simulators.dc09.codec import CR, LF, Answer, AnswerError, parse_answer

MAX_ANSWER = 4096  # bytes buffered while looking for an answer's CR
Accept = Callable[[Answer], bool]


class LinkError(Exception):
    """The receiver cannot be reached (refused, reset, unreachable)."""


def frames(buffer: bytearray) -> list[bytes]:
    """Whole frames (LF ... CR) cut from the front of ``buffer``; bytes before a LF
    are dropped, and so is an unfinished frame grown past ``MAX_ANSWER``."""
    out = []
    while (end := buffer.find(CR)) >= 0:
        chunk = bytes(buffer[: end + 1])
        del buffer[: end + 1]
        start = chunk.rfind(LF)
        if start >= 0:
            out.append(chunk[start:])
    if len(buffer) > MAX_ANSWER:
        buffer.clear()
    return out


def _first_accepted(raw_frames: list[bytes], accept: Accept) -> Answer | None:
    for raw in raw_frames:
        try:
            answer = parse_answer(raw)
        except AnswerError:
            continue  # not received correctly: as if nothing came
        if accept(answer):
            return answer
    return None


class TcpLink:
    def __init__(self, local: str, remote: tuple[str, int]) -> None:
        self.local, self.remote = local, remote
        self._stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._buffer = bytearray()

    async def exchange(self, data: bytes, accept: Accept, wait: float) -> Answer | None:
        """Send ``data`` and return the first answer ``accept`` takes, None when none
        came within ``wait`` seconds; LinkError when the connection fails."""
        try:
            async with asyncio.timeout(wait):
                reader, writer = await self._connected()
                writer.write(data)
                await writer.drain()
                while True:
                    chunk = await reader.read(1024)
                    if not chunk:
                        raise ConnectionResetError("the receiver closed the connection")
                    self._buffer += chunk
                    answer = _first_accepted(frames(self._buffer), accept)
                    if answer is not None:
                        return answer
        except TimeoutError:
            return None
        except OSError as exc:
            await self.close()
            raise LinkError(str(exc) or type(exc).__name__) from exc

    async def _connected(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._stream is None:
            host, port = self.remote
            self._stream = await asyncio.open_connection(host, port, local_addr=(self.local, 0))
            self._buffer.clear()
        return self._stream

    async def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream[1].close()
            with contextlib.suppress(OSError):
                await stream[1].wait_closed()


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(64)
        self.error: Exception | None = None

    def datagram_received(self, data: bytes, addr: object) -> None:
        if not self.queue.full():
            self.queue.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        self.error = exc  # e.g. ICMP port unreachable: nobody listens there


class UdpLink:
    def __init__(self, local: str, remote: tuple[str, int]) -> None:
        self.local, self.remote = local, remote
        self._transport: asyncio.DatagramTransport | None = None
        self._protocol: _Datagrams | None = None

    async def exchange(self, data: bytes, accept: Accept, wait: float) -> Answer | None:
        if self._transport is None or self._protocol is None:
            loop = asyncio.get_running_loop()
            try:
                self._transport, self._protocol = await loop.create_datagram_endpoint(
                    _Datagrams, local_addr=(self.local, 0), remote_addr=self.remote
                )
            except OSError as exc:
                raise LinkError(str(exc)) from exc
        protocol = self._protocol
        while not protocol.queue.empty():  # answers to earlier tries, too late now
            protocol.queue.get_nowait()
        protocol.error = None
        self._transport.sendto(data)
        try:
            async with asyncio.timeout(wait):
                while True:
                    datagram = await protocol.queue.get()
                    answer = _first_accepted(frames(bytearray(datagram)), accept)
                    if answer is not None:
                        return answer
        except TimeoutError:
            if protocol.error is not None:
                raise LinkError(str(protocol.error)) from None
            return None

    async def close(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()


Link = TcpLink | UdpLink


def open_link(transport: str, local: str, remote: tuple[str, int]) -> Link:
    return TcpLink(local, remote) if transport == "tcp" else UdpLink(local, remote)
