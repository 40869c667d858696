"""A small app served by `WebServer` on loopback, a raw HTTP client, a self-signed
certificate for TLS."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from ipaddress import ip_address
from pathlib import Path

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.webkit.guards import add_security_headers, read_only
from gateway.webkit.server import Limits, WebServer
from gateway.webkit.sessions import SessionStore

POLICY = "default-src 'none'"
COOKIE = "session"

Serve = Callable[..., Awaitable[WebServer]]


def small_app(sessions: SessionStore) -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello\n")

    async def login(request: web.Request) -> web.Response:
        response = web.Response(text="in\n")
        sessions.set_cookie(response, request, COOKIE)
        return response

    app = web.Application(middlewares=[read_only])
    add_security_headers(app, POLICY)
    app.router.add_get("/hello", hello)
    app.router.add_get("/login", login)
    return app


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    started: list[WebServer] = []

    async def start(
        limits: Limits | None = None, ssl_context: ssl.SSLContext | None = None
    ) -> WebServer:
        server = WebServer(small_app(SessionStore(3600)), "127.0.0.1", 0, limits or Limits(),
                           name="test server", ssl_context=ssl_context)  # fmt: skip
        await server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.close()


async def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def request(port: int, raw: bytes, timeout: float = 5.0) -> bytes:
    """Sends ``raw`` and reads until the server closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        async with asyncio.timeout(timeout):
            return await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()


def get(path: str, method: str = "GET") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()


def headers_of(answer: bytes) -> dict[str, str]:
    head = answer.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head)}


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
    )  # fmt: skip
    return cert_path, key_path
