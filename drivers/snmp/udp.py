"""One shared UDP socket per address family, with request-id demultiplexing.

Every agent is reached through the same socket, so a thousand devices cost one file
descriptor and one receive buffer, enlarged so that a burst of answers to hundreds
of parallel requests is not dropped by the kernel. An answer is matched to its
request by request-id and must come from the address the request went to; anything
else is counted and dropped.

A retry resends the very same packet, request-id included, so a late answer to an
earlier attempt still completes the request instead of being thrown away.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from dataclasses import dataclass, field

from drivers.snmp.base import SnmpError, SnmpTimeout
from drivers.snmp.ber import peek_request_id

RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
_MAX_REQUEST_ID = 0x7FFFFFFF


@dataclass(slots=True)
class _Pending:
    host: str
    port: int
    future: asyncio.Future[bytes | None]


@dataclass(slots=True)
class UdpStats:
    """Counters of what arrived that matched no request."""

    stray: int = 0
    wrong_address: int = 0


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, mux: UdpMux) -> None:
        self._mux = mux

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self._mux.deliver(data, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP errors on an unconnected socket name no request; the timeout handles it.
        pass


@dataclass
class UdpMux:
    """Sends requests and hands each answer to the request that is waiting for it."""

    max_in_flight: int = 256
    stats: UdpStats = field(default_factory=UdpStats)
    _pending: dict[int, _Pending] = field(default_factory=dict)
    _transports: dict[int, asyncio.DatagramTransport] = field(default_factory=dict)
    _slots: asyncio.Semaphore | None = None
    _opening: asyncio.Lock | None = None
    _next_id: int = field(default_factory=lambda: random.randrange(1, _MAX_REQUEST_ID))
    _closed: bool = False

    def deliver(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        request_id = peek_request_id(data)
        pending = self._pending.get(request_id) if request_id is not None else None
        if pending is None:
            self.stats.stray += 1
            return
        if addr[0] != pending.host or addr[1] != pending.port:
            self.stats.wrong_address += 1
            return
        if not pending.future.done():
            pending.future.set_result(data)

    @property
    def closed(self) -> bool:
        return self._closed

    def new_request_id(self) -> int:
        request_id = self._next_id
        while request_id in self._pending:
            request_id = request_id % _MAX_REQUEST_ID + 1
        self._next_id = request_id % _MAX_REQUEST_ID + 1
        return request_id

    async def _transport(self, family: int) -> asyncio.DatagramTransport:
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:  # the first requests all arrive at once: open one socket
            transport = self._transports.get(family)
            if transport is None:
                transport = await self._open(family)
                self._transports[family] = transport
            return transport

    async def _open(self, family: int) -> asyncio.DatagramTransport:
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            _enlarge_receive_buffer(sock)
            sock.bind(("::", 0) if family == socket.AF_INET6 else ("0.0.0.0", 0))
            sock.setblocking(False)
            loop = asyncio.get_running_loop()
            transport, _ = await loop.create_datagram_endpoint(lambda: _Receiver(self), sock=sock)
        except BaseException:
            sock.close()
            raise
        if self.closed:  # closed while we were opening it
            transport.close()
            raise SnmpError("SNMP client is closed")
        return transport

    async def exchange(
        self,
        family: int,
        host: str,
        port: int,
        request_id: int,
        packet: bytes,
        attempt_timeout: float,
        retries: int,
    ) -> bytes:
        """Send ``packet`` (carrying ``request_id``) and return the raw answer.

        Raises SnmpTimeout after ``retries + 1`` attempts of ``attempt_timeout`` seconds.
        """
        if self._closed:
            raise SnmpError("SNMP client is closed")
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_in_flight)
        transport = self._transports.get(family) or await self._transport(family)
        loop = asyncio.get_running_loop()
        async with self._slots:
            pending = _Pending(host, port, loop.create_future())
            self._pending[request_id] = pending
            try:
                for _ in range(retries + 1):
                    if pending.future.done():
                        pending.future = loop.create_future()
                    transport.sendto(packet, (host, port))
                    timer = loop.call_later(attempt_timeout, _expire, pending.future)
                    try:
                        data = await pending.future
                    finally:
                        timer.cancel()
                    if data is not None:
                        return data
                    if self.closed:
                        break
            finally:
                del self._pending[request_id]
        if self.closed:
            raise SnmpError("SNMP client is closed")
        raise SnmpTimeout(
            f"no answer from {host}:{port} after {retries + 1} attempt(s) of {attempt_timeout:g} s"
        )

    def close(self) -> None:
        """Close the sockets; requests still waiting end with SnmpError."""
        self._closed = True
        for transport in self._transports.values():
            transport.close()
        self._transports.clear()
        for pending in self._pending.values():
            _expire(pending.future)


def _expire(future: asyncio.Future[bytes | None]) -> None:
    if not future.done():
        future.set_result(None)


def _enlarge_receive_buffer(sock: socket.socket) -> None:
    # SO_RCVBUFFORCE passes net.core.rmem_max when we may (root, CAP_NET_ADMIN);
    # otherwise ask for it plainly and take what the kernel grants.
    force = getattr(socket, "SO_RCVBUFFORCE", None)
    if force is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, force, RECEIVE_BUFFER_BYTES)
            return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
