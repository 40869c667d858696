"""One logged-in Asterisk Manager Interface connection, over TCP or TLS.

The connection is read-only by construction: ``action`` sends only the actions of
``READ_ACTIONS`` (each one reads state, none changes it), whatever a caller asks.
Login is plain (``Secret``) or MD5 challenge-response (``Action: Challenge``,
``AuthType: MD5``, then ``Key`` = MD5 of the challenge followed by the secret), as the
Login and Challenge actions of Asterisk 22's manager documentation describe; the
secret is never part of an error or a log line.

One task reads every message the server sends: a message with the ``ActionID`` of a
pending action goes to it (a list action collects its events up to the one with
``EventList: Complete``), an event without one goes to a bounded queue of pushed
events (the oldest is dropped when it is full, and counted).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import ssl
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from drivers.ami.errors import (
    AmiActionError,
    AmiAuthError,
    AmiClosed,
    AmiConnectError,
    AmiError,
    AmiProtocolError,
    AmiTimeout,
    AmiTlsError,
)
from drivers.ami.message import Message, MessageReader, encode_action
from drivers.tasks import stop_task

# The actions the gateway may send besides Login, Challenge and Logoff: each one only
# reads (Asterisk 22: main/manager.c, res/res_pjsip/pjsip_configuration.c,
# res/res_pjsip_outbound_registration.c; Asterisk 20: channels/chan_sip.c).
READ_ACTIONS = frozenset(
    {
        "Ping",
        "CoreStatus",
        "CoreShowChannels",
        "PJSIPShowRegistrationsOutbound",
        "PJSIPShowEndpoints",
        "SIPpeers",
    }
)

# The list actions among them, and the event each lists its rows in.
LIST_ROWS = {
    "CoreShowChannels": "CoreShowChannel",
    "PJSIPShowRegistrationsOutbound": "OutboundRegistrationDetail",
    "PJSIPShowEndpoints": "EndpointList",
    "SIPpeers": "PeerEntry",
}
LOGIN_REFUSAL_DELAY = 1.0  # seconds Asterisk sleeps before "Authentication failed"


@dataclass(frozen=True, slots=True)
class AmiTarget:
    """Where a PBX's manager interface is and how to log in to it."""

    host: str
    port: int = 5038
    username: str = ""
    secret: str = field(default="", repr=False)  # never printed
    auth: str = "md5"  # "md5" (challenge-response) or "plain"
    tls: ssl.SSLContext | None = field(default=None, repr=False)
    server_hostname: str | None = None  # the name the certificate must carry
    timeout: float = 5.0  # connect + login, and each action
    events: str = "system"  # the event classes asked for at login ("off" for none)
    line_bytes: int = 8 * 1024
    message_bytes: int = 64 * 1024
    answer_bytes: int = 4 * 1024 * 1024  # one action's response and list, together
    events_queued: int = 256  # pushed events waiting to be taken


@dataclass(frozen=True, slots=True)
class AmiAnswer:
    """An action's response and, for a list action, its events and closing event."""

    response: Message
    events: tuple[Message, ...] = ()
    complete: Message | None = None

    def rows(self, event: str) -> list[Message]:
        """The list's events called ``event`` (an action may interleave others, such as
        PJSIPShowRegistrationsOutbound's AuthDetail)."""
        wanted = event.lower()
        return [m for m in self.events if (m.event or "").lower() == wanted]


class _Pending:
    """One action waiting for its answer."""

    def __init__(self, name: str, budget: int) -> None:
        self.name = name
        self.budget = budget
        self.done: asyncio.Future[AmiAnswer] = asyncio.get_running_loop().create_future()
        self.response: Message | None = None
        self.events: list[Message] = []
        self.size = 0

    def feed(self, message: Message) -> bool:
        """Take one message; True once the answer is whole (or failed)."""
        self.size += sum(len(k) + len(v) + 4 for k, v in message.headers)
        if self.size > self.budget:
            self.done.set_exception(
                AmiProtocolError(f"{self.name}: answer larger than {self.budget} bytes")
            )
            return True
        if self.response is None:
            if message.response is None:
                return False  # an event of ours before the response: not from Asterisk
            self.response = message
            if message.response.lower() == "error":
                error = AmiActionError(self.name, message.get("Message", "") or "")
                self.done.set_exception(error)
                return True
            if (message.get("EventList") or "").lower() != "start":
                self.done.set_result(AmiAnswer(message))
                return True
            return False
        if (message.get("EventList") or "").lower() == "complete":
            self.done.set_result(AmiAnswer(self.response, tuple(self.events), message))
            return True
        self.events.append(message)
        return False


class AmiConnection:
    """One manager session: open (connect, banner, login), actions, pushed events."""

    def __init__(self, target: AmiTarget) -> None:
        self.target = target
        self.version = ""  # the AMI version of the banner
        self.closed = asyncio.Event()
        self.close_reason: AmiError = AmiClosed("not connected")
        self.events: deque[Message] = deque(maxlen=max(1, target.events_queued))
        self.events_dropped = 0
        self.skipped_lines = 0
        self._event_ready = asyncio.Event()
        self._pending: dict[str, _Pending] = {}
        self._ids = itertools.count(1)
        self._writer: asyncio.StreamWriter | None = None
        self._reader: MessageReader | None = None
        self._task: asyncio.Task[None] | None = None
        self._write_lock = asyncio.Lock()

    # -- opening -----------------------------------------------------------------

    async def open(self) -> None:
        """Connect, read the banner and log in; any failure leaves nothing open."""
        try:
            # Asterisk waits a second before it refuses a login (action_login): a
            # refusal must not look like a PBX that does not answer.
            async with asyncio.timeout(self.target.timeout + LOGIN_REFUSAL_DELAY):
                await self._connect()
                assert self._reader is not None
                self.version = await self._reader.banner()
                self._task = asyncio.create_task(self._read_loop(), name="ami-read")
                await self._login()
        except TimeoutError:
            await self.close()
            waited = self.target.timeout + LOGIN_REFUSAL_DELAY
            raise AmiTimeout(f"no answer within {waited:g} s") from None
        except BaseException:
            await self.close()
            raise

    async def _connect(self) -> None:
        target = self.target
        try:
            stream, writer = await asyncio.open_connection(
                target.host,
                target.port,
                ssl=target.tls,
                server_hostname=(target.server_hostname or target.host) if target.tls else None,
                limit=target.line_bytes,
            )
        except ssl.SSLError as exc:
            raise AmiTlsError(_tls_reason(exc)) from exc
        except OSError as exc:
            raise AmiConnectError(exc.strerror or str(exc)) from exc
        self._writer = writer
        self._reader = MessageReader(stream, target.message_bytes)

    async def _login(self) -> None:
        target = self.target
        headers: list[tuple[str, str]] = [("Username", target.username)]
        if target.auth == "md5":
            challenge = (await self._send("Challenge", [("AuthType", "MD5")])).response
            key = hashlib.md5(
                ((challenge.get("Challenge") or "") + target.secret).encode("utf-8"),
                usedforsecurity=False,
            ).hexdigest()
            headers += [("AuthType", "MD5"), ("Key", key)]
        else:
            headers.append(("Secret", target.secret))
        headers.append(("Events", target.events))
        try:
            await self._send("Login", headers)
        except AmiActionError as exc:
            raise AmiAuthError(exc.message or "Authentication failed") from None

    # -- actions -----------------------------------------------------------------

    async def action(self, name: str, headers: Iterable[tuple[str, str]] = ()) -> AmiAnswer:
        """Send a read-only action and wait for its whole answer."""
        if name not in READ_ACTIONS:
            raise ValueError(f"{name} is not a read-only action the driver sends")
        try:
            async with asyncio.timeout(self.target.timeout):
                return await self._send(name, list(headers))
        except TimeoutError:
            # A device this slow (or a half-open connection): start afresh next time.
            self._end(AmiTimeout(f"{name}: no answer within {self.target.timeout:g} s"))
            raise AmiTimeout(f"{name}: no answer within {self.target.timeout:g} s") from None

    async def _send(self, name: str, headers: list[tuple[str, str]]) -> AmiAnswer:
        if self.closed.is_set() or self._writer is None:
            raise self.close_reason
        action_id = f"lvgw-{next(self._ids)}"
        pending = self._pending[action_id] = _Pending(name, self.target.answer_bytes)
        try:
            async with self._write_lock:
                self._writer.write(encode_action(name, [("ActionID", action_id), *headers]))
                await self._writer.drain()
        except (ConnectionError, RuntimeError) as exc:
            self._pending.pop(action_id, None)
            self._end(AmiClosed(f"connection lost: {exc}"))
            raise self.close_reason from None
        try:
            return await pending.done
        finally:
            self._pending.pop(action_id, None)

    # -- pushed events -------------------------------------------------------------

    async def next_event(self) -> Message:
        """The next event the server pushed; the close reason once the connection ends."""
        while not self.events:
            if self.closed.is_set():
                raise self.close_reason
            self._event_ready.clear()
            await self._event_ready.wait()
        return self.events.popleft()

    # -- the reading task --------------------------------------------------------

    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            while True:
                message = await self._reader.message()
                if message is None:
                    self._end(AmiClosed("the PBX closed the connection"))
                    return
                self._dispatch(message)
        except AmiError as exc:
            self._end(exc)
        finally:
            self.skipped_lines = self._reader.skipped_lines

    def _dispatch(self, message: Message) -> None:
        action_id = message.action_id
        pending = self._pending.get(action_id) if action_id is not None else None
        if pending is not None:
            if pending.done.done() or pending.feed(message):
                self._pending.pop(action_id or "", None)
            return
        if message.event is not None and action_id is None:
            if len(self.events) == self.events.maxlen:
                self.events_dropped += 1
            self.events.append(message)
            self._event_ready.set()
        # Anything else (the rest of a list we gave up on): nobody waits for it.

    def _end(self, reason: AmiError) -> None:
        if self.closed.is_set():
            return
        self.close_reason = reason
        self.closed.set()
        self._event_ready.set()
        for pending in self._pending.values():
            if not pending.done.done():
                pending.done.set_exception(reason)
        self._pending.clear()
        if self._writer is not None:
            self._writer.close()

    async def close(self) -> None:
        """Log off (best effort) and close; waits for the reading task to end."""
        if not self.closed.is_set() and self._writer is not None and self._task is not None:
            with contextlib.suppress(Exception):
                self._writer.write(encode_action("Logoff", []))
                await asyncio.wait_for(self._writer.drain(), 1.0)
        self._end(AmiClosed("closed by the gateway"))
        if self._task is not None:
            await stop_task(self._task, reraise=True)
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._writer.wait_closed(), 1.0)


def _tls_reason(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate refused: {exc.verify_message}"
    return exc.reason or str(exc)
