"""`WebServer` over real TCP on loopback: the connection cap, the request-head
deadline, the security headers on every answer, quiet client errors, TLS."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from pathlib import Path

import aiohttp
import pytest

from gateway.webkit.server import BUSY, Limits
from tests.webkit.conftest import POLICY, Serve, get, headers_of, request, self_signed, wait_for

pytestmark = pytest.mark.integration


async def test_connections_over_the_cap_are_answered_503_and_closed(serve: Serve) -> None:
    server = await serve(Limits(max_connections=3, head_timeout=30))
    idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(3)]
    try:
        await wait_for(lambda: server.open_connections == 3, "three open connections")
        # One more is turned away at once, without reading a request: never queued. It
        # sends nothing, so a queued or served connection would wait out the 30 s head
        # deadline: 10 s tells the two apart however loaded the machine.
        assert await request(server.port, b"", timeout=10) == BUSY
        assert server.refused == 1
        assert server.open_connections == 3
        # A slot freed is a slot to use.
        _, writer = idle.pop()
        writer.close()
        await writer.wait_closed()
        await wait_for(lambda: server.open_connections == 2, "a freed slot")
        answer = await request(server.port, get("/hello"))
        assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"hello\n")
    finally:
        for _, writer in idle:
            writer.close()
            await writer.wait_closed()
    await wait_for(lambda: server.open_connections == 0, "all closed")


@pytest.mark.parametrize(
    "sent", [b"", b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n"], ids=["silent", "drip"]
)
async def test_a_connection_without_a_request_head_is_closed_at_the_deadline(
    serve: Serve, sent: bytes
) -> None:
    server = await serve(Limits(head_timeout=0.3, keepalive_timeout=30))
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(sent)
        await writer.drain()
        async with asyncio.timeout(5):
            assert await reader.read() == b""  # closed by the server, nothing answered
    finally:
        writer.close()
        await writer.wait_closed()
    assert time.monotonic() - started >= 0.3
    assert server.timed_out == 1
    assert server.open_connections == 0


async def test_the_head_deadline_is_for_the_first_request_and_idle_keepalive_ends(
    serve: Serve,
) -> None:
    server = await serve(Limits(head_timeout=0.2, keepalive_timeout=1.5))
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        # Two requests on one connection, the second after the head deadline has
        # passed (but well within keep-alive): the deadline is for the first head only.
        for _ in range(2):
            writer.write(b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            await writer.drain()
            async with asyncio.timeout(5):
                head = await reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 200 ")
                assert await reader.readexactly(6) == b"hello\n"
            await asyncio.sleep(0.4)
        # Then idle: closed by the server once keep-alive runs out.
        async with asyncio.timeout(10):
            assert await reader.read() == b""
    finally:
        writer.close()
        await writer.wait_closed()
    assert server.timed_out == 0
    assert server.open_connections == 0


async def test_every_answer_carries_the_security_headers(serve: Serve) -> None:
    server = await serve()
    for raw, status in ((get("/hello"), 200), (get("/missing"), 404),
                        (get("/hello", "POST"), 405), (get("/hello", "DELETE"), 405)):  # fmt: skip
        answer = await request(server.port, raw)
        assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer[:80]
        headers = headers_of(answer)
        assert headers["content-security-policy"] == POLICY
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"
        assert headers["server"] == "lvgw"  # no library or Python version
        if status == 405:
            assert headers["allow"] == "GET, HEAD"
    head = await request(server.port, get("/hello", "HEAD"))
    assert head.startswith(b"HTTP/1.1 200 ") and head.endswith(b"\r\n\r\n")


async def test_malformed_requests_get_400_and_log_no_error(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    server = await serve()
    caplog.set_level(logging.DEBUG)
    bad = [
        b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n",
        b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"b" * 10_000 + b"\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # a TLS hello
    ]
    for raw in bad:
        answer = await request(server.port, raw)
        assert answer.startswith((b"HTTP/1.0 400 ", b"HTTP/1.1 400 ")), answer[:80]
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert errors == [], [r.getMessage() for r in errors]
    # And the server still answers.
    assert (await request(server.port, get("/hello"))).startswith(b"HTTP/1.1 200 ")


async def test_over_tls_the_cap_holds_and_the_session_cookie_is_secure(
    serve: Serve, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    trusted = ssl.create_default_context(cafile=str(cert))
    tls = await serve(Limits(max_connections=2), ssl_context=served)
    plain = await serve()
    async with aiohttp.ClientSession() as client:
        async with client.get(f"https://127.0.0.1:{tls.port}/login", ssl=trusted) as answer:
            assert answer.status == 200
            cookie = answer.headers["Set-Cookie"]
        async with client.get(f"http://127.0.0.1:{plain.port}/login") as answer:
            plain_cookie = answer.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in plain_cookie and "HttpOnly" in plain_cookie
    await wait_for(lambda: tls.open_connections == 0, "client connections closed")
    idle = [await asyncio.open_connection("127.0.0.1", tls.port, ssl=trusted) for _ in range(2)]
    try:
        await wait_for(lambda: tls.open_connections == 2, "two TLS connections")
        # Refused before any handshake: closed without a word.
        assert await request(tls.port, b"") == b""
        assert tls.refused == 1
    finally:
        for _, writer in idle:
            writer.close()
            await writer.wait_closed()
    await wait_for(lambda: tls.open_connections == 0, "all closed")
    # Plain HTTP on the TLS port: a failed handshake, closed and no longer counted.
    assert await request(tls.port, get("/hello")) == b""
    await wait_for(lambda: tls.open_connections == 0, "failed handshake closed")
