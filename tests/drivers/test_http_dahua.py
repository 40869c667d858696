"""The Dahua HTTP API: its key=value answers, the field expressions of profiles, the
attach stream's parts, and the reader against a loopback device that misbehaves on
purpose (wrong credentials, an HTTP 500, an HTML page, a malformed body, a device too
slow): each failure classified and logged once, the poll still ending with a result,
the next poll reading again."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from drivers.dahua import parse_field
from drivers.dahua.events import event_of
from drivers.dahua.text import DahuaErrorAnswer, parse_key_values
from drivers.http import HttpContentError, HttpDevice
from gateway.config import load_config
from gateway.config.limits import DEFAULT_LIMITS
from gateway.config.load import LoadedConfig
from gateway.model import Value
from gateway.poller.result import PollResult
from gateway.protocols.dahua.dialect import DahuaDialect
from gateway.protocols.dahua.events import attach_events, attach_path
from gateway.protocols.registry import Drivers
from tests.drivers.httpdevice import FakeDevice, serving, target
from tests.readings import by_key

STORAGE = (
    b"list.info[0].Detail[0].IsError=false\r\nlist.info[0].Detail[0].Path=/dev/sda0\r\n"
    b"list.info[0].Detail[0].TotalBytes=2000000000.000000\r\n"
    b"list.info[0].Detail[0].UsedBytes=500000000.000000\r\n"
    b"list.info[0].Detail[1].IsError=true\r\nlist.info[0].Detail[1].Path=/dev/sda1\r\n"
    b"list.info[0].Detail[1].TotalBytes=1000000000.000000\r\n"
    b"list.info[0].Detail[1].UsedBytes=0.000000\r\n"
    b"list.info[0].Name=/dev/sda\r\nlist.info[0].State=Success\r\n"
)


def test_key_value_answers_and_what_is_refused() -> None:
    assert parse_key_values(b"name=NVR lobby\r\nversion=4.0=a\r\n\r\n") == {
        "name": "NVR lobby",
        "version": "4.0=a",  # the value is the rest of the line
    }
    assert parse_key_values(b"") == {}
    with pytest.raises(DahuaErrorAnswer, match="Bad Request"):
        parse_key_values(b"Error\r\nBad Request!\r\n")
    for body in (
        b"<!DOCTYPE html><html><body>404</body></html>",
        b"name=x\r\nthis is not a pair\r\n",
        b"\xff\xfe\x00garbage",
        b"a key=1\r\n",
    ):
        with pytest.raises(HttpContentError):
            parse_key_values(body)


def test_field_expressions_over_a_disk_and_its_partitions() -> None:
    rows = DahuaDialect().rows(parse_key_values(STORAGE), "list.info", None)
    disk = rows["1"]  # the API's list.info[0] is disk 1
    assert parse_field("Name").evaluate(disk.values) == "/dev/sda"
    assert parse_field("sum(Detail[*].TotalBytes)").evaluate(disk.values) == "3000000000"
    free = "sum(Detail[*].TotalBytes) - sum(Detail[*].UsedBytes)"
    assert parse_field(free).evaluate(disk.values) == "2500000000"
    assert parse_field("any(Detail[*].IsError)").evaluate(disk.values) == "true"
    assert parse_field("sum(Detail[*].Nothing)").evaluate(disk.values) is None
    assert parse_field("sum(Detail[*].Path)").evaluate(disk.values) is None  # not numbers
    for bad, why in (
        ("Detail[*].TotalBytes", "needs sum"),
        ("sum(Name)", "exactly one"),
        ("any(Detail[*].IsError) - Name", "true or false"),
        ("a;b", "not a Dahua key"),
    ):
        with pytest.raises(ValueError, match=why):
            parse_field(bad)


def test_event_index_rows_are_channels_counted_from_one() -> None:
    rows = DahuaDialect().rows({"channels[0]": "2", "channels[1]": "5"}, "channels", ".")
    assert sorted(rows) == ["3", "6"]


def test_attach_stream_parts() -> None:
    assert event_of(b"Code=VideoLoss;action=Start;index=2\r\n") == (
        event_of(b"Code=VideoLoss;action=Start;index=2")
    )
    got = event_of(b'Code=StorageFailure;action=Stop;index=0;data={"a": "b;c=d"}')
    assert got is not None and (got.code, got.action, got.index) == ("StorageFailure", "Stop", 0)
    assert event_of(b"Heartbeat") is None
    with pytest.raises(HttpContentError):
        event_of(b"<html>nonsense</html>")


def answer(body: bytes, status: int = 200, kind: str = "text/plain") -> web.Response:
    return web.Response(status=status, body=body, content_type=kind)


GOOD = {
    "/cgi-bin/magicBox.cgi?action=getMachineName": lambda: answer(b"name=nvr-lab\r\n"),
    "/cgi-bin/magicBox.cgi?action=getSystemInfo": lambda: answer(
        b"deviceType=DHI-NVR5216\r\nserialNumber=7K1\r\n"
    ),
    "/cgi-bin/magicBox.cgi?action=getSoftwareVersion": lambda: answer(b"version=4.0,build:x\r\n"),
    "/cgi-bin/global.cgi?action=getCurrentTime": lambda: answer(b"result=2026-01-05 17:00:00\r\n"),
    "/cgi-bin/storageDevice.cgi?action=getDeviceAllInfo": lambda: answer(STORAGE),
    "/cgi-bin/configManager.cgi?action=getConfig&name=ChannelTitle": lambda: answer(
        b"table.ChannelTitle[0].Name=Gate\r\ntable.ChannelTitle[1].Name=Lobby\r\n"
    ),
    "/cgi-bin/eventManager.cgi?action=getEventIndexes&code=VideoLoss": lambda: answer(
        b"channels[0]=1\r\n"
    ),
    "/cgi-bin/configManager.cgi?action=getConfig&name=RecordMode": lambda: answer(
        b"table.RecordMode[0].Mode=0\r\ntable.RecordMode[1].Mode=2\r\n"
    ),
}


def site(tmp_path: Path, port: int, password: str = "right-password") -> LoadedConfig:
    (tmp_path / "pw").write_text(password + "\n")
    (tmp_path / "site.yaml").write_text(
        "site: {id: s, name: S, customer: {name: C}, contract: {type: annual},"
        " timezone: Asia/Shanghai}\n"
        "uplink: {mqtt: {host: 127.0.0.1}}\n"
        "devices:\n"
        f"  - {{id: nvr, kind: nvr, profile: nvr-dahua-http, address: 127.0.0.1, port: {port},\n"
        "     dahua: {user: lvgw, password_file: pw, timeout: 1s}}\n"
    )
    return load_config(tmp_path / "site.yaml")


def values(result: PollResult) -> dict[str, Value]:
    return by_key(result.readings)


async def polls(config: LoadedConfig, count: int) -> list[PollResult]:
    async with Drivers(config) as drivers:
        reader = drivers.reader(config.device("nvr"))
        return [await reader.poll() for _ in range(count)]


@pytest.mark.integration
async def test_the_reader_reads_a_recorder(tmp_path: Path) -> None:
    async with serving(FakeDevice(dict(GOOD))) as port:
        (result,) = await polls(site(tmp_path, port), 1)
    got = values(result)
    assert result.reachable and not result.error
    assert (got["sys.name"], got["nvr.model"], got["access"]) == ("nvr-lab", "DHI-NVR5216", "ok")
    assert got["sys.date"] == 1767603600.0  # 17:00 in Shanghai is 09:00 UTC
    assert (got["disk.status/1"], got["disk.state/1"]) == ("abnormal", "Success")
    assert got["disk.capacity/1"] == 3000000000 / 2**20
    assert got["disk.free/1"] == 2500000000 / 2**20
    assert (got["camera.online/1"], got["camera.online/2"]) == ("online", "offline")
    assert (got["camera.recording/1"], got["camera.recording/2"]) == ("recording", "not_recording")


@pytest.mark.integration
async def test_event_indexes_answering_error_list_no_channel(tmp_path: Path) -> None:
    routes = dict(GOOD)
    routes["/cgi-bin/eventManager.cgi?action=getEventIndexes&code=VideoLoss"] = lambda: answer(
        b"Error\r\n"
    )
    async with serving(FakeDevice(routes)) as port:
        (result,) = await polls(site(tmp_path, port), 1)
    got = values(result)
    assert (got["camera.online/1"], got["camera.online/2"]) == ("online", "online")
    assert not result.error  # lists none: not a failure


@pytest.mark.integration
async def test_bad_answers_are_classified_logged_once_and_polling_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    routes = dict(GOOD)
    routes["/cgi-bin/storageDevice.cgi?action=getDeviceAllInfo"] = lambda: answer(b"oops", 500)
    routes["/cgi-bin/configManager.cgi?action=getConfig&name=ChannelTitle"] = lambda: answer(
        b"<html><body>Server error</body></html>", kind="text/html"
    )
    routes["/cgi-bin/configManager.cgi?action=getConfig&name=RecordMode"] = lambda: answer(
        b"table.RecordMode[0].Mode=0\r\n\x00\x01 binary junk\r\n"
    )
    with caplog.at_level(logging.WARNING, logger="lvgw.http"):
        async with serving(FakeDevice(routes)) as port:
            results = await polls(site(tmp_path, port), 3)
    for result in results:
        got = values(result)
        assert result.reachable
        assert got["sys.name"] == "nvr-lab"  # the other resources read as usual
        assert "disk.status/1" not in got  # no rows without the storage answer
        assert "HTTP error status" in result.error and "malformed answer" in result.error
    warnings = [r.message for r in caplog.records]
    assert len(warnings) == 1, warnings  # once, not at every poll
    assert "HTTP error status" in warnings[0]


@pytest.mark.integration
async def test_wrong_credentials_read_as_auth_failed_two_requests_a_poll(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeDevice(dict(GOOD))
    with caplog.at_level(logging.WARNING, logger="lvgw.http"):
        async with serving(fake) as port:
            results = await polls(site(tmp_path, port, password="wrong-one"), 3)
    assert fake.requests == 6
    for result in results:
        assert result.reachable and values(result)["access"] == "auth_failed"
    assert len(caplog.records) == 1 and "auth failed" in caplog.records[0].message
    assert "wrong-one" not in caplog.text


@pytest.mark.integration
async def test_a_slow_device_is_unreachable_then_read_again(tmp_path: Path) -> None:
    fake = FakeDevice(dict(GOOD), slow=frozenset({"/cgi-bin/magicBox.cgi"}))
    async with serving(fake) as port:
        config = site(tmp_path, port)
        async with Drivers(config) as drivers:
            reader = drivers.reader(config.device("nvr"))
            slow = await reader.poll()
            fake.slow = frozenset()
            back = await reader.poll()
    assert not slow.reachable and slow.error.startswith("timeout")
    assert back.reachable and values(back)["sys.name"] == "nvr-lab"


@pytest.mark.integration
async def test_the_attach_stream_yields_starts_and_stops() -> None:
    def part(text: bytes) -> bytes:
        return (
            b"--myboundary\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s\r\n\r\n"
            % (
                len(text),
                text,
            )
        )

    body = (
        part(b"Heartbeat")
        + part(b"Code=VideoLoss;action=Start;index=2\r\n")
        + part(b"Code=VideoMotion;action=Pulse;index=0\r\n")
        + part(b"not an event at all")
        + part(b"Code=VideoLoss;action=Stop;index=2\r\n")
        + b"--myboundary--\r\n"
    )
    path = attach_path(["VideoLoss", "StorageFailure"])
    routes = {
        path: lambda: web.Response(
            body=body, headers={"Content-Type": "multipart/x-mixed-replace; boundary=myboundary"}
        )
    }
    async with serving(FakeDevice(routes)) as port:
        session = HttpDevice(target(port))
        try:
            events: AsyncIterator[object] = attach_events(
                session, DEFAULT_LIMITS, ["VideoLoss", "StorageFailure"]
            )
            got = [(e.code, e.active, e.channel) async for e in events]  # type: ignore[attr-defined]
        finally:
            await session.close()
    assert got == [("VideoLoss", True, "3"), ("VideoLoss", False, "3")]
