"""The manager interface of each simulated PBX that has ``ami:`` in the fleet: one
asyncio TCP (or TLS) server per PBX, one session per connection, as Asterisk 22's
main/manager.c runs them.

A session starts with the banner, takes ``Login`` (plain ``Secret``, or ``AuthType:
MD5`` with the ``Key`` computed over the session's ``Challenge``), ``Challenge``,
``Logoff``, ``Events`` and the read actions of ``pbx.ACTIONS``, each allowed only
when the account's ``write`` classes meet the classes Asterisk registers it with
(``Permission denied`` otherwise). A failed login waits one second, answers
``Authentication failed`` and hangs up, as ``action_login`` does. The session gets
the events of the classes it asked for at login (``Events:``) within the account's
``read`` classes. A restart (the model's ``Booted``) sends ``Shutdown`` and ends
every session; a PBX that does not answer (off, or behind a dead switch port) ends
its sessions and hangs up on new ones at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from simulators.ami import pbx, wire
from simulators.errors import ServeError
from simulators.fleet import Fleet
from simulators.fleet_schema import AmiAccount
from simulators.models.base import DeviceModel
from simulators.models.events import Booted, Event
from simulators.models.pbx import PbxModel

log = logging.getLogger("simulators.ami")

LINE_MAX = 1024  # a line Asterisk reads (inbuf[1025], less the terminating NUL)
AUTH_TIMEOUT = 30.0  # manager.conf authtimeout: seconds to log in
QUEUED_EVENTS = 1000  # events a session that does not read may fall behind by


@dataclass(eq=False)
class _Session:
    model: PbxModel
    account: AmiAccount
    zone: ZoneInfo | None
    writer: asyncio.StreamWriter
    authenticated: bool = False
    challenge: str = ""
    classes: set[str] = field(default_factory=set)  # event classes sent to it
    events: asyncio.Queue[bytes] = field(default_factory=lambda: asyncio.Queue(QUEUED_EVENTS))

    def push(self, event_class: str, data: bytes) -> None:
        if self.authenticated and event_class in self.classes and not self.events.full():
            self.events.put_nowait(data)


class PbxManager:
    """The manager interface of one PBX."""

    def __init__(self, model: PbxModel, account: AmiAccount, zone: ZoneInfo | None) -> None:
        self.model = model
        self.account = account
        self.zone = zone
        self.sessions: set[_Session] = set()
        self.logins_failed = 0  # for tests: how often wrong credentials were tried
        model.listeners.append(self._on_event)

    def _on_event(self, model: DeviceModel, event: Event) -> None:
        assert isinstance(model, PbxModel)
        for event_class, data in pbx.pushed(model, event):
            for session in list(self.sessions):
                session.push(event_class, data)
        if isinstance(event, Booted):  # Asterisk restarted: its sessions end
            for session in list(self.sessions):
                session.events.put_nowait(b"")  # the marker: hang up after the Shutdown

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.model.refresh()
        if not self.model.app_answering():
            writer.close()
            return
        session = _Session(self.model, self.account, self.zone, writer)
        self.sessions.add(session)
        sender = asyncio.create_task(self._send_events(session))
        try:
            writer.write(f"{wire.BANNER}\r\n".encode())
            await self._actions(session, reader)
        except (ConnectionError, TimeoutError, ValueError, ssl.SSLError):
            pass  # gone, silent past authtimeout, or a line over the limit: hang up
        finally:
            self.sessions.discard(session)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _send_events(self, session: _Session) -> None:
        while True:
            data = await session.events.get()
            if not data:
                session.writer.close()
                return
            if self.model.app_answering():
                session.writer.write(data)

    async def _actions(self, session: _Session, reader: asyncio.StreamReader) -> None:
        while True:
            limit = None if session.authenticated else AUTH_TIMEOUT
            action = await asyncio.wait_for(self._read_action(reader), limit)
            if action is None:
                return
            self.model.refresh()
            if not self.model.app_answering():
                return
            if not await self._handle(session, action):
                await session.writer.drain()
                return
            await session.writer.drain()

    async def _read_action(self, reader: asyncio.StreamReader) -> list[tuple[str, str]] | None:
        headers: list[tuple[str, str]] = []
        while True:
            line = await reader.readline()
            if not line:
                return None
            if len(line) > LINE_MAX + 2:
                return None  # Asterisk discards it; a simulator just hangs up
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if not text:
                if headers:
                    return headers
                continue
            key, sep, value = text.partition(":")
            if sep and len(headers) < wire.MAX_ACTION_LINES:
                headers.append((key.strip(), value.strip()))

    async def _handle(self, session: _Session, action: list[tuple[str, str]]) -> bool:
        """Answer one action; False to hang up."""
        name = wire.header(action, "Action").lower()
        write = session.writer.write
        if not name:
            write(wire.error(action, "Missing action in request"))
        elif name == "logoff":
            goodbye = [("Response", "Goodbye"), *_action_id(action)]
            write(wire.render([*goodbye, ("Message", "Thanks for all the fish.")]))
            return False
        elif not session.authenticated and name not in ("login", "challenge"):
            write(wire.error(action, "Permission denied"))
        elif name == "challenge":
            if wire.header(action, "AuthType").lower() != "md5":
                write(wire.error(action, "Must specify AuthType"))
            else:
                session.challenge = session.challenge or str(random.randrange(1, 2**31))
                write(wire.success(action, None, ("Challenge", session.challenge)))
        elif name == "login":
            return await self._login(session, action)
        elif name == "events":
            session.classes = self._classes(session, wire.header(action, "EventMask"))
            write(wire.success(action, None, ("Events", "On" if session.classes else "Off")))
        else:
            self._read_action_answer(session, name, action)
        return True

    def _read_action_answer(
        self, session: _Session, name: str, action: list[tuple[str, str]]
    ) -> None:
        known = pbx.ACTIONS.get(name)
        driver = self.account.channel_driver
        if known is None or (known[2] is not None and known[2] != driver):
            asked = wire.header(action, "Action")
            hint = "Use Action: ListCommands to show available commands."
            session.writer.write(wire.error(action, f"Invalid/unknown command: {asked}. {hint}"))
            return
        answer, classes, _ = known
        if classes and not classes & set(self.account.write):
            session.writer.write(wire.error(action, "Permission denied"))
            return
        session.writer.write(answer(self.model, action, self.zone))

    async def _login(self, session: _Session, action: list[tuple[str, str]]) -> bool:
        if session.authenticated:
            session.writer.write(wire.success(action, "Already authenticated"))
            return True
        if not self._credentials_ok(session, action):
            self.logins_failed += 1
            self.model.ami_logins_failed += 1
            await asyncio.sleep(1.0)  # action_login sleeps before it answers
            session.writer.write(wire.error(action, "Authentication failed"))
            return False
        session.authenticated = True
        self.model.ami_logins += 1
        session.classes = self._classes(session, wire.header(action, "Events"))
        session.writer.write(wire.success(action, "Authentication accepted"))
        if "system" in session.classes:
            session.writer.write(pbx.fully_booted(self.model))
        return True

    def _credentials_ok(self, session: _Session, action: list[tuple[str, str]]) -> bool:
        account = self.account
        if wire.header(action, "Username") != account.username:
            return False
        if wire.header(action, "AuthType").lower() == "md5":
            if not session.challenge:
                return False
            key = hashlib.md5((session.challenge + account.secret).encode(), usedforsecurity=False)
            return wire.header(action, "Key") == key.hexdigest()
        return wire.header(action, "Secret") == account.secret

    def _classes(self, session: _Session, mask: str) -> set[str]:
        """``set_eventmask``: on (or nothing said) is every class the account reads."""
        readable: set[str] = set(self.account.read)
        word = mask.strip().lower()
        if word in ("", "on", "yes", "true"):
            return readable
        if word in ("off", "no", "false"):
            return set()
        return {part.strip() for part in word.split(",")} & readable

    def hang_up_all(self) -> None:
        for session in list(self.sessions):
            session.writer.close()


def _action_id(action: list[tuple[str, str]]) -> list[tuple[str, str]]:
    action_id = wire.header(action, "ActionID")
    return [("ActionID", action_id)] if action_id else []


@dataclass(frozen=True, slots=True)
class ServedPbx:
    device_id: str
    host: str
    manager: PbxManager
    account: AmiAccount


class AmiServers:
    """The manager interfaces of a fleet (one listening socket per PBX)."""

    def __init__(self, served: list[ServedPbx]) -> None:
        self.served = served
        self.servers: list[asyncio.Server] = []

    async def start(self) -> None:
        try:
            for pbx_ in self.served:
                context = _tls_context(pbx_.account)
                try:
                    server = await asyncio.start_server(
                        pbx_.manager.serve, pbx_.host, pbx_.account.port, ssl=context,
                        limit=LINE_MAX + 2,
                    )  # fmt: skip
                except OSError as exc:
                    raise ServeError(
                        f"device {pbx_.device_id}: cannot serve AMI on "
                        f"{pbx_.host}:{pbx_.account.port}: {exc.strerror}"
                    ) from exc
                self.servers.append(server)
                log.info("%s: AMI on %s:%d", pbx_.device_id, pbx_.host, pbx_.account.port)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        servers, self.servers = self.servers, []
        for pbx_ in self.served:
            pbx_.manager.hang_up_all()
        for server in servers:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2.0)


def _tls_context(account: AmiAccount) -> ssl.SSLContext | None:
    if account.tls is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(account.tls.cert, account.tls.key)
    return context


def ami_servers(fleet: Fleet, models: Mapping[str, DeviceModel]) -> AmiServers:
    """The manager interface of every PBX of ``fleet`` with ``ami:``."""
    zone = None
    if fleet.site.timezone:
        with contextlib.suppress(ValueError, KeyError):  # an unknown zone: this machine's
            zone = ZoneInfo(fleet.site.timezone)
    served = []
    for device in fleet.devices:
        account = getattr(device.spec, "ami", None)
        model = models[device.id]
        if account is not None and isinstance(model, PbxModel):
            manager = PbxManager(model, account, zone)
            served.append(ServedPbx(device.id, device.address, manager, account))
    return AmiServers(served)
