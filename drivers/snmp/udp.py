"""One shared UDP socket per address family, with request-id demultiplexing.

Every agent is reached through the same socket, so a thousand devices cost one file
descriptor and one receive buffer, enlarged so that a burst of answers to hundreds
of parallel requests is not dropped by the kernel. An answer is matched to its
request by request-id and must come from the address the request went to; anything
else is counted and dropped.

A retry resends the very same packet, request-id included, so a late answer to an
earlier attempt still completes the request instead of being thrown away.

Timeouts are kept by one sweep every SWEEP_SECONDS over the requests in flight rather
than a timer per request: far cheaper at thousands of requests a second, at the price
of a timeout firing up to SWEEP_SECONDS late.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from collections import deque
from dataclasses import dataclass, field

from drivers.snmp.base import SnmpError, SnmpProtocolError, SnmpTimeout
from drivers.snmp.ber import Response, decode_response, peek_request_id
from drivers.snmp.pacing import Pacer

RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
SWEEP_SECONDS = 0.05
_MAX_REQUEST_ID = 0x7FFFFFFF


@dataclass(slots=True)
class _Pending:
    host: str
    port: int
    future: asyncio.Future[Response]
    packet: bytes
    transport: asyncio.DatagramTransport
    attempt_timeout: float
    attempts_left: int
    deadline: float
    attempts: int
    noise: int = 0  # datagrams from its address that were not SNMP (no request-id)


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
    pacer: Pacer | None = None  # a cap on sends per second (a sweep); none when polling
    stats: UdpStats = field(default_factory=UdpStats)
    _pending: dict[int, _Pending] = field(default_factory=dict)
    _transports: dict[int, asyncio.DatagramTransport] = field(default_factory=dict)
    _opening: asyncio.Lock | None = None
    _waiting: deque[asyncio.Future[None]] = field(default_factory=deque)
    _in_flight: int = 0
    _sweeping: asyncio.TimerHandle | None = None
    _next_id: int = field(default_factory=lambda: random.randrange(1, _MAX_REQUEST_ID))
    _closed: bool = False

    @property
    def closed(self) -> bool:
        return self._closed

    def deliver(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        try:
            response: Response | None = decode_response(data)
            request_id: int | None = response.request_id  # type: ignore[union-attr]
        except SnmpProtocolError as exc:
            response, error = None, exc
            request_id = peek_request_id(data)
        pending = self._pending.get(request_id) if request_id is not None else None
        if pending is None:
            self.stats.stray += 1
            if request_id is None:
                self._note_noise(addr)
            return
        if addr[0] != pending.host or addr[1] != pending.port:
            self.stats.wrong_address += 1
            return
        del self._pending[request_id]  # type: ignore[arg-type]
        if pending.future.done():  # cancelled meanwhile
            return
        if response is None:
            pending.future.set_exception(error)
        else:
            pending.future.set_result(response)

    def _note_noise(self, addr: tuple[str | object, ...]) -> None:
        """Something that is not SNMP came from an address we are waiting for: it is
        ignored (the real answer may follow), but a timeout will say so."""
        for pending in self._pending.values():
            if addr[0] == pending.host and addr[1] == pending.port:
                pending.noise += 1
                return

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
    ) -> Response:
        """Send ``packet`` (carrying ``request_id``) and return the decoded answer.

        Raises SnmpTimeout after ``retries + 1`` attempts of ``attempt_timeout``
        seconds, SnmpProtocolError if the answer cannot be decoded.
        """
        if self._closed:
            raise SnmpError("SNMP client is closed")
        transport = self._transports.get(family) or await self._transport(family)
        if self._in_flight >= self.max_in_flight:
            await self._wait_for_slot()
        if self.pacer is not None:
            await self.pacer.wait()
        self._in_flight += 1
        try:
            loop = asyncio.get_running_loop()
            future: asyncio.Future[Response] = loop.create_future()
            self._pending[request_id] = _Pending(
                host, port, future, packet, transport, attempt_timeout, retries,
                loop.time() + attempt_timeout, retries + 1,
            )  # fmt: skip
            transport.sendto(packet, (host, port))
            if self._sweeping is None:
                self._sweeping = loop.call_later(SWEEP_SECONDS, self._sweep)
            try:
                return await future
            finally:
                self._pending.pop(request_id, None)
        finally:
            self._in_flight -= 1
            if self._waiting:
                self._release_one()

    async def _wait_for_slot(self) -> None:
        while self._in_flight >= self.max_in_flight:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._release_one()  # pass the slot we were given on
                raise
            if self._closed:
                raise SnmpError("SNMP client is closed")

    def _release_one(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _sweep(self) -> None:
        """Resend or time out the requests whose attempt is over."""
        self._sweeping = None
        if not self._pending or self._closed:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        expired = []
        for request_id, pending in self._pending.items():
            if pending.deadline > now:
                continue
            if pending.attempts_left > 0 and not pending.future.done():
                pending.attempts_left -= 1
                pending.deadline = now + pending.attempt_timeout
                pending.transport.sendto(pending.packet, (pending.host, pending.port))
                if self.pacer is not None:
                    self.pacer.charge()
            else:
                expired.append(request_id)
        for request_id in expired:
            pending = self._pending.pop(request_id)
            if not pending.future.done():
                pending.future.set_exception(_timeout(pending))
        if self._pending:
            self._sweeping = loop.call_later(SWEEP_SECONDS, self._sweep)

    def close(self) -> None:
        """Close the sockets; requests still waiting end with SnmpError."""
        self._closed = True
        if self._sweeping is not None:
            self._sweeping.cancel()
            self._sweeping = None
        for transport in self._transports.values():
            transport.close()
        self._transports.clear()
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(SnmpError("SNMP client is closed"))
        self._pending.clear()
        for waiter in self._waiting:
            if not waiter.done():
                waiter.set_result(None)
        self._waiting.clear()


def _timeout(pending: _Pending) -> SnmpTimeout:
    noise = f" ({pending.noise} datagram(s) that were not SNMP came back)" if pending.noise else ""
    return SnmpTimeout(
        f"no answer from {pending.host}:{pending.port} after {pending.attempts} attempt(s) "
        f"of {pending.attempt_timeout:g} s{noise}",
        noise=pending.noise,
    )


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
