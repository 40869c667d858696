"""What a broken or hostile peer does to the AMI driver: TLS refused, garbage lines,
lines and messages over the bounds, a peer too slow, a connection dropped in the
middle of a list. Each ends in one classified error, and nothing hangs."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from drivers.ami import (
    AmiClosed,
    AmiConnection,
    AmiProtocolError,
    AmiTarget,
    AmiTimeout,
    AmiTlsError,
)
from drivers.tasks import stop_tasks
from tests.delivery.certs import CertAuthority
from tests.drivers.ami.conftest import SECRET, start_pbx

pytestmark = pytest.mark.integration

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
BANNER = b"Asterisk Call Manager/11.0.0\r\n"
LOGIN_OK = b"Response: Success\r\nActionID: lvgw-1\r\nMessage: Authentication accepted\r\n\r\n"


@asynccontextmanager
async def scripted(script: Script) -> AsyncIterator[int]:
    """A TCP peer on a free port that runs ``script`` for each connection."""

    handlers: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            await script(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await stop_tasks(*handlers)
        await server.wait_closed()


async def read_action(reader: asyncio.StreamReader) -> None:
    await reader.readuntil(b"\r\n\r\n")


async def logged_in(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Banner, login accepted, and the next action read: what comes next is the test's."""
    writer.write(BANNER)
    await read_action(reader)
    writer.write(LOGIN_OK)
    await read_action(reader)


def plain(port: int, **changes: object) -> AmiTarget:
    fields: dict[str, object] = {"host": "127.0.0.1", "port": port, "username": "lvgw",
                                 "secret": SECRET, "auth": "plain", "timeout": 1.0}  # fmt: skip
    return AmiTarget(**{**fields, **changes})  # type: ignore[arg-type]


async def test_not_an_ami_banner() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\n")
        await reader.read()

    async with scripted(script) as port:
        with pytest.raises(AmiProtocolError, match="not an AMI banner"):
            await AmiConnection(plain(port)).open()


async def test_garbage_lines_are_skipped_and_counted() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await logged_in(reader, writer)
        writer.write(b"Response: Success\r\nActionID: lvgw-2\r\n\x00\x01garbage\r\n"
                     b"no colon here\r\nCoreCurrentCalls: 3\r\n\r\n")  # fmt: skip
        await reader.read()

    async with scripted(script) as port:
        conn = AmiConnection(plain(port))
        await conn.open()
        try:
            answer = await conn.action("CoreStatus")
            assert answer.response.get("CoreCurrentCalls") == "3"
            assert conn._reader is not None and conn._reader.skipped_lines == 2
        finally:
            await conn.close()


@pytest.mark.parametrize(
    ("flood", "error"),
    [(b"X: " + b"y" * 20_000 + b"\r\n", "longer than the line limit"),
     (b"".join(b"H%d: %s\r\n" % (n, b"v" * 100) for n in range(700)), "larger than")],
)  # fmt: skip
async def test_oversized_lines_and_messages_end_the_connection(flood: bytes, error: str) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await logged_in(reader, writer)
        writer.write(b"Response: Success\r\nActionID: lvgw-2\r\n" + flood + b"\r\n")
        await reader.read()

    async with scripted(script) as port:
        conn = AmiConnection(plain(port))
        await conn.open()
        try:
            with pytest.raises(AmiProtocolError, match=error):
                await conn.action("CoreStatus")
            assert conn.closed.is_set()
        finally:
            await conn.close()


async def test_a_slow_peer_times_out() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await logged_in(reader, writer)
        await asyncio.sleep(5)  # never answers in time

    async with scripted(script) as port:
        conn = AmiConnection(plain(port, timeout=0.3))
        await conn.open()
        try:
            with pytest.raises(AmiTimeout):
                await conn.action("CoreStatus")
            assert conn.closed.is_set()  # a connection that slow is not used again
        finally:
            await conn.close()


async def test_a_peer_silent_before_its_banner_times_out() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    async with scripted(script) as port:
        with pytest.raises(AmiTimeout):
            await AmiConnection(plain(port, timeout=0.3)).open()


async def test_dropped_in_the_middle_of_a_list() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await logged_in(reader, writer)
        writer.write(b"Response: Success\r\nActionID: lvgw-2\r\nEventList: start\r\n\r\n"
                     b"Event: CoreShowChannel\r\nActionID: lvgw-2\r\nChannel: PJSIP/1-1\r\n\r\n")  # fmt: skip
        await writer.drain()

    async with scripted(script) as port:
        conn = AmiConnection(plain(port))
        await conn.open()
        try:
            with pytest.raises(AmiClosed):
                await conn.action("CoreShowChannels")
        finally:
            await conn.close()


async def test_tls(tmp_path: Path) -> None:
    authority = CertAuthority(tmp_path / "ca")
    server = authority.issue("pbx", server=True)
    pbx = await start_pbx(tmp_path, tls={"cert": str(server.cert), "key": str(server.key)})
    try:
        trusted = ssl.create_default_context(cafile=str(authority.ca.cert))
        conn = AmiConnection(plain(pbx.port, tls=trusted, auth="md5"))
        await conn.open()
        assert (await conn.action("Ping")).response.get("Ping") == "Pong"
        await conn.close()
        unknown = ssl.create_default_context()  # the system's CAs: not ours
        with pytest.raises(AmiTlsError, match="certificate refused"):
            await AmiConnection(plain(pbx.port, tls=unknown)).open()
        with pytest.raises(AmiTimeout):  # plain AMI spoken to a TLS port: no banner comes
            await AmiConnection(plain(pbx.port, timeout=0.5)).open()
    finally:
        await pbx.servers.stop()
    plain_pbx = await start_pbx(tmp_path)
    try:
        tls = ssl.create_default_context(cafile=str(authority.ca.cert))
        with pytest.raises(AmiTlsError):  # TLS spoken to a plain port
            await AmiConnection(plain(plain_pbx.port, tls=tls)).open()
    finally:
        await plain_pbx.servers.stop()
