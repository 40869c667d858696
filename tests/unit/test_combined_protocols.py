"""A device read over two protocols: the profile's points say which (``protocol:`` on a
point or a table, the profile's ``protocol`` otherwise), the device has a section for
each, its ``port`` is the profile's protocol's and ``ports`` the others', and one
combined reader polls them together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.config import ConfigError, load_config
from gateway.config.load import LoadedConfig
from gateway.model import Reading, Value
from gateway.poller.result import PollResult
from gateway.protocols.combined import CombinedReader
from gateway.protocols.http.reader import HttpReader
from gateway.protocols.registry import Drivers
from gateway.protocols.snmp.reader import SnmpPointReader

PROFILE = """\
description: An NVR's system health over SNMP, its cameras over ISAPI
kinds: [nvr]
protocol: snmp
isapi:
  events: {video_lost: videoloss}
points:
  sys.uptime: {oid: 1.3.6.1.2.1.1.3.0, type: timeticks, unit: s}
  sys.name: {protocol: isapi, path: /ISAPI/System/deviceInfo, field: deviceName, type: text}
tables:
  camera:
    protocol: isapi
    instance: channel
    path: /ISAPI/ContentMgmt/InputProxy/channels/status
    row: InputProxyChannelStatus
    key: id
    columns:
      online: {field: online, type: int, codes: {"true": 1, "false": 2}, states: {1: online, 2: offline}}
rules:
  - {code: device.auth_failed, type: check, title: "{name}", level: 2, when: {point: access, eq: auth_failed}}
"""
HEAD = """\
site: {id: s, name: S, customer: {name: C}, contract: {type: annual}}
uplink: {mqtt: {host: 127.0.0.1}}
devices:
"""
DEVICE = (
    "  - {id: nvr, kind: nvr, profile: both, address: 127.0.0.1, port: 1161,"
    " ports: {isapi: 8080}, isapi: {user: lvgw, password_file: pw}%s}\n"
)


def write(tmp_path: Path, profile: str, device: str) -> Path:
    (tmp_path / "profiles").mkdir(exist_ok=True)
    (tmp_path / "profiles" / "both.yaml").write_text(profile)
    (tmp_path / "pw").write_text("secret\n")
    path = tmp_path / "site.yaml"
    path.write_text(HEAD + device)
    return path


def problems(tmp_path: Path, profile: str = PROFILE, device: str = DEVICE % "") -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, profile, device))
    return [str(p).removeprefix(f"{tmp_path}/") for p in info.value.problems]


def loaded(tmp_path: Path) -> LoadedConfig:
    return load_config(write(tmp_path, PROFILE, DEVICE % ", snmp: {community: c}"))


def test_the_profile_says_which_protocol_reads_each_point(tmp_path: Path) -> None:
    config = loaded(tmp_path)
    profile = config.profiles["both"]
    assert profile.protocols == ("snmp", "isapi")
    assert set(profile.for_protocol("snmp").points) == {"sys.uptime"}
    isapi = profile.for_protocol("isapi")
    assert (isapi.protocol, set(isapi.points), set(isapi.tables)) == (
        "isapi", {"sys.name"}, {"camera"}
    )  # fmt: skip
    assert "access" in profile.point_names()  # an ISAPI reading, rules may name it


def test_each_protocols_reader_sees_its_own_port(tmp_path: Path) -> None:
    config = loaded(tmp_path)
    device = config.device("nvr")
    assert config.device_over(device, "snmp").port == 1161
    assert config.device_over(device, "isapi").port == 8080
    without = device.model_copy(update={"ports": {}})
    assert config.device_over(without, "isapi").port is None  # ISAPI's default, not 1161


async def test_the_registry_gives_a_combined_reader(tmp_path: Path) -> None:
    config = loaded(tmp_path)
    async with Drivers(config) as drivers:
        reader = drivers.reader(config.device("nvr"))
        assert isinstance(reader, CombinedReader)
        (snmp, first), (isapi, second) = reader.readers
        assert (snmp, isapi) == ("snmp", "isapi")
        assert isinstance(first, SnmpPointReader) and isinstance(second, HttpReader)
        assert second.client.target.port == 8080
        (source,) = drivers.push_sources()  # the ISAPI events of a device whose profile is SNMP's
        assert source.name == "isapi-events"


@pytest.mark.parametrize(
    ("profile", "device", "expected"),
    [
        (
            PROFILE.replace("  camera:\n    protocol: isapi\n", "  camera:\n"),
            DEVICE % "",
            "profiles/both.yaml:10: table camera: key and path and row are for ISAPI tables\n"
            "profiles/both.yaml:16: column camera.online: an SNMP point needs an oid",
        ),
        (
            PROFILE.replace("      online: {", "      online: {protocol: snmp, "),
            DEVICE % "",
            "profiles/both.yaml:17: column camera.online: a column is read over its table's "
            "protocol: give protocol on the table",
        ),
        (
            PROFILE.replace("sys.uptime: {oid", "sys.uptime: {protocol: isapi, oid"),
            DEVICE % "",
            "profiles/both.yaml:7: point sys.uptime: an HTTP API point needs a field",
        ),
        (
            PROFILE.replace("{protocol: isapi, path", "{protocol: bacnet, path"),
            DEVICE % "",
            "profiles/both.yaml:8: field 'points.sys.name.protocol': unknown protocol 'bacnet' "
            "(one of: snmp, modbus, isapi, dahua, sia, ami)",
        ),
        (
            PROFILE,
            DEVICE.replace(", isapi: {user: lvgw, password_file: pw}", "") % "",
            "site.yaml:4: device 'nvr', field 'profile': profile 'both' speaks ISAPI: give an "
            "isapi: section",
        ),
        (
            PROFILE,
            DEVICE % ", modbus: {unit: 1}",
            "site.yaml:4: device 'nvr', field 'modbus': profile 'both' speaks SNMP and ISAPI, "
            "not Modbus",
        ),
        (
            PROFILE,
            DEVICE.replace("{isapi: 8080}", "{snmp: 161}") % "",
            "site.yaml:4: device 'nvr', field 'ports.snmp': a port for a protocol the profile "
            "reads besides snmp (isapi); snmp's is the device's port",
        ),
    ],
    ids=[
        *("column-of-other-protocol", "column-protocol", "scalar-fields", "unknown"),
        *("missing-section", "extra-section", "primary-port"),
    ],
)
def test_check_config_says_what_does_not_fit(
    tmp_path: Path, profile: str, device: str, expected: str
) -> None:
    assert problems(tmp_path, profile, device) == expected.split("\n")


@dataclass
class Answer:
    result: PollResult

    async def poll(self) -> PollResult:
        return self.result


def result(reachable: bool, *points: tuple[str, Value], error: str = "") -> PollResult:
    ts = datetime(2026, 1, 5, tzinfo=UTC)
    own = [Reading("nvr", "reachable", reachable, ts), Reading("nvr", "rtt", 2.0, ts)]
    readings = [Reading("nvr", p, v, ts) for p, v in points] if reachable else []
    return PollResult("nvr", ts, reachable, (*own[: 2 if reachable else 1], *readings), error)


async def test_the_combined_reader_merges_and_a_protocol_down_loses_only_its_points() -> None:
    snmp = Answer(result(True, ("sys.uptime", 10.0)))
    isapi = Answer(result(True, ("access", "ok"), ("sys.name", "nvr")))
    both = await CombinedReader("nvr", [("snmp", snmp), ("isapi", isapi)]).poll()
    assert both.reachable and not both.error
    assert [(r.point, r.value) for r in both.readings] == [
        ("reachable", True), ("rtt", 2.0), ("sys.uptime", 10.0), ("access", "ok"),
        ("sys.name", "nvr"),
    ]  # fmt: skip
    snmp.result = result(False, error="timeout: no answer")
    half = await CombinedReader("nvr", [("snmp", snmp), ("isapi", isapi)]).poll()
    assert half.reachable and half.error == "snmp: timeout: no answer"
    assert {r.point for r in half.readings} == {"reachable", "rtt", "access", "sys.name"}
    isapi.result = result(False, error="no connection: refused")
    none = await CombinedReader("nvr", [("snmp", snmp), ("isapi", isapi)]).poll()
    assert not none.reachable and [r.point for r in none.readings] == ["reachable"]
    assert none.error == "snmp: timeout: no answer; isapi: no connection: refused"
