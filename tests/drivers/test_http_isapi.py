"""The HTTP API driver and the ISAPI reader against a real aiohttp server on loopback
that misbehaves on purpose: each failure is classified, the poll still ends with a
result, and a refused account costs two requests per poll (the digest challenge and
the one retry), logged once however many polls it lasts."""

from __future__ import annotations

import logging
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from drivers.http import (
    HttpAuthError,
    HttpConnectError,
    HttpContentError,
    HttpDevice,
    HttpStatusError,
    HttpTimeout,
    HttpTlsError,
    HttpTooLarge,
)
from drivers.http.stream import multipart_parts
from drivers.isapi import event_alert, parse_xml
from gateway.config import load_config
from gateway.protocols.registry import Drivers
from tests.drivers.httpdevice import PASSWORD, FakeDevice, free_port, serving, target

pytestmark = pytest.mark.real

GOOD = b'<?xml version="1.0"?><DeviceStatus xmlns="http://www.hikvision.com/ver20/XMLSchema"><deviceUpTime>42</deviceUpTime></DeviceStatus>'
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<DeviceStatus><deviceUpTime>&lol3;</deviceUpTime></DeviceStatus>"""


class Device(FakeDevice):
    """A misbehaving recorder: digest auth in front of fixed answers; counts requests."""

    def __init__(self) -> None:
        super().__init__(
            {
                "/ISAPI/System/status": lambda: web.Response(
                    body=GOOD, content_type="application/xml"
                ),
                "/500": lambda: web.Response(status=500, text="internal error"),
                "/html": lambda: web.Response(
                    text="<!DOCTYPE html><html><body>Error</body></html>", content_type="text/html"
                ),
                "/bad-xml": lambda: web.Response(body=b"<DeviceStatus><a>1</DeviceStatus>"),
                "/bomb": lambda: web.Response(body=BOMB, content_type="application/xml"),
                "/big": lambda: web.Response(body=b"<a>" + b"x" * (2 * 1024 * 1024) + b"</a>"),
                "/slow": lambda: web.Response(body=GOOD),
            },
            slow=frozenset({"/slow"}),
        )


@pytest.fixture
async def device() -> AsyncIterator[tuple[Device, int]]:
    fake = Device()
    async with serving(fake) as port:
        yield fake, port


async def test_each_bad_answer_is_classified(device: tuple[Device, int]) -> None:
    _, port = device
    client = HttpDevice(target(port))
    try:
        assert parse_xml(await client.get("/ISAPI/System/status")).findtext("deviceUpTime") == "42"
        with pytest.raises(HttpStatusError, match="500"):
            await client.get("/500")
        for path in ("/html", "/bad-xml", "/bomb"):
            with pytest.raises(HttpContentError):
                parse_xml(await client.get(path))
        with pytest.raises(HttpTooLarge):
            await client.get("/big")
        with pytest.raises(HttpTimeout):
            await client.get("/slow")
        # The session goes on after all of that.
        assert parse_xml(await client.get("/ISAPI/System/status")).tag == "DeviceStatus"
    finally:
        await client.close()


async def test_wrong_credentials_and_no_server(device: tuple[Device, int]) -> None:
    fake, port = device
    client = HttpDevice(target(port, password="wrong"))
    fake.requests = 0
    try:
        with pytest.raises(HttpAuthError):
            await client.get("/ISAPI/System/status")
        assert fake.requests == 2  # the challenge, then one answer to it: no storm
    finally:
        await client.close()
    nobody = HttpDevice(target(free_port()))
    try:
        with pytest.raises(HttpConnectError):
            await nobody.get("/ISAPI/System/status")
    finally:
        await nobody.close()


async def test_a_certificate_the_gateway_does_not_trust_is_a_tls_error(tmp_path: Path) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=recorder", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=GOOD)

    app = web.Application()
    app.router.add_get("/x", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
    client = HttpDevice(target(port, scheme="https"))
    try:
        with pytest.raises(HttpTlsError):
            await client.get("/x")
    finally:
        await client.close()
        await runner.cleanup()


async def test_the_reader_reports_refused_credentials_once_and_keeps_polling(
    device: tuple[Device, int], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake, port = device
    (tmp_path / "pw").write_text("wrong\n")
    (tmp_path / "site.yaml").write_text(
        "site: {id: s, name: S, customer: {name: C}, contract: {type: annual}}\n"
        "uplink: {mqtt: {host: 127.0.0.1}}\n"
        "devices:\n"
        f"  - {{id: nvr, kind: nvr, profile: nvr-hikvision-isapi, address: 127.0.0.1, port: {port},\n"
        "     isapi: {user: lvgw, password_file: pw, timeout: 1s}}\n"
    )
    config = load_config(tmp_path / "site.yaml")
    fake.requests = 0
    with caplog.at_level(logging.WARNING, logger="lvgw.http"):
        async with Drivers(config) as drivers:
            reader = drivers.reader(config.device("nvr"))
            results = [await reader.poll() for _ in range(3)]
    for result in results:
        assert result.reachable
        assert {r.point: r.value for r in result.readings}["access"] == "auth_failed"
        assert result.error.startswith("auth failed")
    assert fake.requests == 6  # two per poll
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert "auth failed" in caplog.records[0].message
    assert PASSWORD not in caplog.text and "wrong" not in caplog.text


async def test_multipart_stream_parts_are_bounded() -> None:
    alert = b"<EventNotificationAlert><eventType>videoloss</eventType><eventState>active</eventState><channelID>3</channelID></EventNotificationAlert>"

    async def chunks(data: bytes) -> AsyncIterator[bytes]:
        for i in range(0, len(data), 7):  # parts split across reads
            yield data[i : i + 7]

    stream = (
        b"--boundary\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n\r\n" % len(alert)
        + alert
        + b"\r\n--boundary\r\nContent-Type: image/jpeg\r\nContent-Length: 5000\r\n\r\n"
        + b"j" * 5000
        + b"\r\n--boundary\r\nContent-Type: application/xml\r\n\r\n"
        + alert
        + b"\r\n--boundary--\r\n"
    )
    parts = [p async for p in multipart_parts(chunks(stream), "boundary", 256, 1024)]
    assert len(parts) == 2  # the oversized picture skipped, not held
    got = event_alert(parts[1].body)
    assert got is not None
    assert (got.event_type, got.state, got.channel) == ("videoloss", "active", "3")
    endless = b"--boundary\r\n\r\n" + b"x" * 5000
    with pytest.raises(HttpContentError):
        _ = [p async for p in multipart_parts(chunks(endless), "boundary", 256, 1024)]
