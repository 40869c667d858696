"""A DC-09 receiver (the standard's CSR) on TCP and UDP, answering as DC-09 says.

Every frame gets the answer ANSI/SIA DC-09-2013 gives it (sections 5.5.1.2, 5.5.1.8,
5.5.3):
- not received correctly (no frame, a wrong length, a wrong CRC): no answer; the
  premises equipment sends it again;
- received correctly but not processable (unknown account, unsupported ID token, a
  wrong key, an encrypted message for a plain account or a plain one for an encrypted
  account, data not understood): ``DUH``;
- its timestamp outside the window (40 s behind to 20 s ahead of the receiver's clock;
  an encrypted message must carry one): ``NAK`` with the receiver's time, never
  encrypted;
- otherwise ``ACK`` (encrypted when the message was), once the message is in the
  bounded queue the consumer drains. A message the receiver took within the last
  ``duplicate_seconds`` (same account, sequence number and events: a retransmission
  whose ACK was lost, or a replay) is acknowledged again but not delivered twice.
  With the queue full nothing is answered, and the premises equipment retries.

Each refusal is counted by cause and logged once per cause; the receiver knows
accounts and keys, not devices.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Self

from drivers.sia import content, frame
from drivers.sia.content import ContentError, Event
from drivers.sia.frame import Frame, FrameError
from drivers.tasks import stop_tasks

log = logging.getLogger(__name__)

TOKENS = frozenset({"SIA-DCS", "ADM-CID", "NULL"})
WINDOW_PAST = 40.0  # seconds a message's timestamp may be behind the receiver's clock
WINDOW_FUTURE = 20.0  # ... and ahead of it
# Why a frame was refused, and what it was answered (None: no answer).
ANSWERS: dict[str, str | None] = {
    "framing": None,
    "length": None,
    "crc": None,
    "format": None,
    "token": "DUH",
    "account": "DUH",
    "encryption": "DUH",
    "key": "DUH",
    "data": "DUH",
    "timestamp": "NAK",
    "busy": None,
    "connections": None,
}


@dataclass(frozen=True, slots=True)
class Account:
    """An account the receiver serves: its number (3-16 hex digits), its AES key
    (None: plain messages), and the account prefix and receiver number its messages
    must carry when given."""

    number: str
    key: bytes | None = field(default=None, repr=False)
    prefix: str | None = None
    receiver: str | None = None
    name: str = ""  # who it is, for the consumer (a device id)

    def matches(self, received: Frame) -> bool:
        return (self.prefix is None or self.prefix == received.prefix) and (
            self.receiver is None or self.receiver == received.receiver
        )


@dataclass(frozen=True, slots=True)
class ReceiverConfig:
    host: str
    port: int
    accounts: tuple[Account, ...]
    max_connections: int = 64
    idle_timeout: float = 60.0  # a TCP connection that sends no whole frame this long
    queue_size: int = 1024  # messages taken, not yet drained
    duplicate_seconds: float = 120.0
    window_past: float = WINDOW_PAST
    window_future: float = WINDOW_FUTURE


@dataclass(frozen=True, slots=True)
class Message:
    """A message the receiver acknowledged."""

    account: Account
    token: str
    encrypted: bool
    seq: str
    events: tuple[Event, ...]
    extended: tuple[str, ...]
    timestamp: datetime | None  # the panel's, UTC
    received: datetime  # the receiver's clock
    peer: str
    transport: str  # "tcp" or "udp"


@dataclass(slots=True)
class ReceiverStats:
    accepted: int = 0
    duplicates: int = 0
    refused: collections.Counter[str] = field(default_factory=collections.Counter)


class Dc09Receiver:
    """Listens on ``host:port`` (TCP and UDP); ``async for message in receiver``."""

    def __init__(
        self, settings: ReceiverConfig, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.settings = settings
        self.clock = clock or (lambda: datetime.now(UTC))
        self.stats = ReceiverStats()
        self._accounts: dict[str, list[Account]] = {}
        for account in settings.accounts:
            self._accounts.setdefault(account.number.upper(), []).append(account)
        self._queue: asyncio.Queue[Message] = asyncio.Queue(settings.queue_size)
        self._recent: dict[Account, collections.OrderedDict[bytes, float]] = {}
        self._logged: set[str] = set()
        self._connections: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self._udp: asyncio.DatagramTransport | None = None

    # -- life ---------------------------------------------------------------------

    async def start(self) -> None:
        """Bind TCP and then UDP on the same port (port 0: the one TCP got)."""
        loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(
            self._serve, self.settings.host, self.settings.port, limit=frame.MAX_FRAME
        )
        port = self._server.sockets[0].getsockname()[1]
        try:
            self._udp, _ = await loop.create_datagram_endpoint(
                lambda: _Datagrams(self), local_addr=(self.settings.host, port)
            )
        except OSError:
            await self.close()
            raise

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None, "start() first"
        host, port = self._server.sockets[0].getsockname()[:2]
        return host, port

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._server is not None:
            self._server.close()
            await stop_tasks(*self._connections)
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- the consumer's side ------------------------------------------------------

    async def get(self) -> Message:
        return await self._queue.get()

    def get_nowait(self) -> Message | None:
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def pending(self) -> int:
        return self._queue.qsize()

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[Message]:
        while True:
            yield await self._queue.get()

    # -- one frame ----------------------------------------------------------------

    def handle(self, data: bytes, peer: str, transport: str) -> bytes | None:
        """The answer to one whole frame (LF ... CR), None for none; an acknowledged
        message is queued for the consumer."""
        try:
            received = frame.parse(data)
        except FrameError as exc:
            return self._refuse(exc.cause, exc.detail, peer, None, None)
        accounts = [a for a in self._accounts.get(received.account, ()) if a.matches(received)]
        if received.token not in TOKENS:
            return self._refuse("token", received.token, peer, received, None)
        if not accounts:
            detail = f"account {received.account} prefix {received.prefix}"
            return self._refuse("account", detail, peer, received, None)
        account = accounts[0]
        if received.encrypted != (account.key is not None):
            detail = "encrypted, no key" if received.encrypted else "plain, key expected"
            return self._refuse("encryption", detail, peer, received, account)
        try:
            text = received.data
            if account.key is not None:
                text = content.decrypt(account.key, received.data)
            body = content.parse(received.token, text)
        except ContentError as exc:
            cause = "key" if exc.cause == "key" else "data"
            return self._refuse(cause, exc.detail, peer, received, account)
        now = self.clock()
        if not self._in_window(body.timestamp, now, required=received.encrypted):
            shown = content.timestamp_text(body.timestamp) if body.timestamp else "none"
            return self._refuse("timestamp", f"timestamp {shown}", peer, received, account)
        if self._seen(account, received, body):
            self.stats.duplicates += 1
            return answer("ACK", received, account, now)
        message = Message(
            account, received.token, received.encrypted, received.seq, body.events,
            body.extended, body.timestamp, now, peer, transport,
        )  # fmt: skip
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            self._forget(account, received, body)
            return self._refuse("busy", "queue full", peer, received, account)
        self.stats.accepted += 1
        return answer("ACK", received, account, now)

    def _in_window(self, stamp: datetime | None, now: datetime, required: bool) -> bool:
        if stamp is None:
            return not required
        ahead = (stamp - now).total_seconds()
        return -self.settings.window_past <= ahead <= self.settings.window_future

    @staticmethod
    def _digest(received: Frame, body: content.Content) -> bytes:
        text = repr((received.token, received.seq, body.events, body.extended))
        return hashlib.blake2b(text.encode(), digest_size=16).digest()

    def _seen(self, account: Account, received: Frame, body: content.Content) -> bool:
        """Whether the same message was taken within ``duplicate_seconds``; else note it."""
        recent = self._recent.setdefault(account, collections.OrderedDict())
        now = time.monotonic()
        while recent and next(iter(recent.values())) < now - self.settings.duplicate_seconds:
            recent.popitem(last=False)
        key = self._digest(received, body)
        if key in recent:
            return True
        recent[key] = now
        if len(recent) > 256:  # a panel sends a few messages a minute
            recent.popitem(last=False)
        return False

    def _forget(self, account: Account, received: Frame, body: content.Content) -> None:
        self._recent.get(account, collections.OrderedDict()).pop(self._digest(received, body), None)

    def _refuse(
        self,
        cause: str,
        detail: str,
        peer: str,
        received: Frame | None,
        account: Account | None,
    ) -> bytes | None:
        self.stats.refused[cause] += 1
        reply = ANSWERS[cause]
        where = f"account={received.account} seq={received.seq} " if received else ""
        if cause not in self._logged:
            self._logged.add(cause)
            log.warning(
                "DC-09 message refused (logged once per cause) cause=%s answer=%s peer=%s "
                "%sdetail=%s",
                cause, reply or "none", peer, where, detail[:120],
            )  # fmt: skip
        else:
            log.debug("DC-09 message refused cause=%s peer=%s %s", cause, peer, where)
        if reply is None or received is None:
            return None
        return answer(reply, received, account, self.clock())

    # -- transports ---------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        peer = _peer(writer.get_extra_info("peername"))
        if len(self._connections) >= self.settings.max_connections:
            self._refuse("connections", "too many connections", peer, None, None)
            writer.close()
            return
        self._connections.add(task)
        try:
            await self._converse(reader, writer, peer)
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _converse(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> None:
        framer = Framer()
        while True:
            async with asyncio.timeout(self.settings.idle_timeout):
                chunk = await reader.read(4096)
            if not chunk:
                return
            for whole in framer.feed(chunk):
                if whole is None:
                    self._refuse("framing", "bytes outside a frame", peer, None, None)
                    continue
                reply = self.handle(whole, peer, "tcp")
                if reply is not None:
                    writer.write(reply)
            async with asyncio.timeout(self.settings.idle_timeout):
                await writer.drain()

    def _datagram(self, data: bytes, addr: object) -> None:
        peer = _peer(addr)
        parts = Framer().feed(data, final=True)
        for whole in parts:
            if whole is None:
                self._refuse("framing", "bytes outside a frame", peer, None, None)
                continue
            reply = self.handle(whole, peer, "udp")
            if reply is not None and self._udp is not None:
                self._udp.sendto(reply, addr)  # type: ignore[arg-type]


class Framer:
    """Cuts a byte stream into frames, LF ... CR, each at most ``MAX_FRAME`` bytes;
    ``None`` stands for bytes that were no frame (counted once per run of them)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes, final: bool = False) -> Iterable[bytes | None]:
        self._buffer += data
        out: list[bytes | None] = []
        while True:
            end = self._buffer.find(b"\r")
            if end < 0:
                break
            chunk = bytes(self._buffer[: end + 1])
            del self._buffer[: end + 1]
            start = chunk.rfind(b"\n")
            if start < 0:
                out.append(None)
                continue
            if chunk[:start].strip():
                out.append(None)
            out.append(chunk[start:])
        if len(self._buffer) > frame.MAX_FRAME or (final and self._buffer.strip()):
            self._buffer.clear()
            out.append(None)
        return out


def answer(kind: str, received: Frame, account: Account | None, now: datetime) -> bytes:
    """ACK, DUH or NAK for ``received`` (DC-09-2013, 5.5.3)."""
    if kind == "NAK":
        return nak(now)
    data = "]"
    key = account.key if account is not None else None
    encrypted = kind == "ACK" and received.encrypted and key is not None
    if encrypted and key is not None:
        data = content.encrypt(key, "]" + content.timestamp_text(now))
    reply = Frame(
        kind, encrypted, received.seq, received.receiver, received.prefix, received.account, data
    )
    return frame.build(reply)


def nak(now: datetime) -> bytes:
    """The NAK of DC-09-2013 5.5.3.2: a fixed form with the receiver's time, never
    encrypted, so that the premises equipment can set its clock."""
    body = f'"NAK"0000R0L0A0[]{content.timestamp_text(now)}'.encode("ascii")
    return b"\n%04X0%03X%s\r" % (frame.crc16(body), len(body), body)


def _peer(address: object) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, receiver: Dc09Receiver) -> None:
        self.receiver = receiver

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if len(data) > frame.MAX_FRAME:
            self.receiver._refuse("framing", "datagram too long", _peer(addr), None, None)
            return
        self.receiver._datagram(data, addr)
