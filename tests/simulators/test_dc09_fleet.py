"""DC-09 panels in the fleet file and in the site file the simulators write; the
panel's frames and encryption checked against pysiaalarm's own CRC and AES."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from pysiaalarm.account import SIAAccount
from pysiaalarm.event import SIAEvent

from simulators.dc09 import codec
from simulators.dc09.events import PanelEvent
from simulators.fleet import load_fleet
from simulators.models import build_model
from simulators.siteconfig import write_site_file
from tests.simulators.test_fleet import fleet_from, problems

PANEL = "{id: p, kind: alarm_panel, sia: {receiver: 127.0.0.1:12300, account: '5A17'"


def test_crc_and_length_as_pysiaalarm_computes_them() -> None:
    for body in ['"NULL"0001L0#123[]', '"SIA-DCS"9999R1L0#ABCDEF[#ABCDEF|Nri1/BA003]', "x" * 300]:
        raw = codec.frame(body)
        assert raw[1:5].decode() == SIAEvent._crc_calc(body)
        assert int(raw[5:9], 16) == len(body) and raw[5:6] == b"0"
        assert raw[0:1] == b"\n" and raw[-1:] == b"\r"
    with pytest.raises(ValueError, match="at most 4095"):
        codec.frame("x" * 4096)


@pytest.mark.parametrize(
    ("fmt", "event", "data"),
    [
        ("sia", PanelEvent("mains", True), "NAT000"),
        ("sia", PanelEvent("zone_low_battery", False, 12), "Nri1/XR012"),
        ("sia", PanelEvent("armed", False, 1), "Nri1/OP001"),
        ("cid", PanelEvent("armed", True, 1), "3401 01 001"),
        ("cid", PanelEvent("armed", False, 1), "1401 01 001"),
        ("cid", PanelEvent("zone_tamper", True, 7), "1383 01 007"),
        ("cid", PanelEvent("box_tamper", False), "3137 01 000"),
        ("cid", PanelEvent("test", True), "1602 01 000"),
        ("cid", PanelEvent("comm_restored", True), "3350 01 000"),
    ],
)
def test_event_data(fmt: str, event: PanelEvent, data: str) -> None:
    assert event.data(fmt) == data  # type: ignore[arg-type]


@pytest.mark.parametrize("key", [None, "PanelKeyPanelKey", "0123456789abcdef01234567", "k" * 32])
def test_pysiaalarm_reads_our_messages(key: str | None) -> None:
    """Plain and AES-128/192/256 (the key as text, as pysiaalarm takes it)."""
    account = codec.Account("5A17", "0", "1", key.encode() if key else None)
    now = datetime.now(UTC).replace(microsecond=0)
    for token, data, seq in [("SIA-DCS", "Nri1/BT003", 1), ("ADM-CID", "1384 01 004", 9999)]:
        raw = codec.message(token, seq, account, data, now)
        event = SIAEvent.from_line(raw.decode().strip(), {"5A17": SIAAccount("5A17", key)})
        assert event.valid_message and event.valid_timestamp  # CRC, window
        # (its valid_length reads the length field as decimal: checked here instead)
        assert int(event.length or "", 16) == len(event.full_message or "")
        assert (event.sequence, event.account, event.receiver, event.line) == (
            f"{seq:04d}", "5A17", "R1", "L0")  # fmt: skip
        assert event.encrypted == (key is not None)
        assert event.timestamp == now
        if token == "SIA-DCS":
            assert (event.ri, event.code, event.message) == ("1", "BT", "003")
        else:
            assert (event.event_qualifier, event.event_type, event.ri) == ("1", "384", "004")
        assert event.response is not None and event.response.value == "ACK"


def test_answers_are_checked_before_they_count() -> None:
    ack = codec.frame('"ACK"0007R1L0#5A17[]')
    assert codec.parse_answer(ack) == codec.Answer("ACK", False, 7, "5A17", "]")
    nak = codec.frame('"NAK"0000R0L0A0[]_10:20:30,01-02-2027')
    answer = codec.parse_answer(nak)
    assert (answer.token, answer.account) == ("NAK", None)
    assert answer.time() == datetime(2027, 1, 2, 10, 20, 30, tzinfo=UTC)
    for bad in [ack.replace(b"0007", b"0008"), ack[:-1], b"\n" + ack[1:5] + b"0FFF" + ack[9:],
                codec.frame('"ACK"7R1L0#5A17[]'), codec.frame('"OK"0007L0#5A17[]')]:  # fmt: skip
        with pytest.raises(codec.AnswerError):
            codec.parse_answer(bad)
    key = b"PanelKeyPanelKey"
    encrypted = codec.frame(f'"*ACK"0007L0#5A17[{codec.encrypt(key, "]_10:20:30,01-02-2027")}')
    assert codec.parse_answer(encrypted).time(key) == datetime(2027, 1, 2, 10, 20, 30, tzinfo=UTC)
    assert codec.decrypt(b"OtherKeyOtherKey", codec.parse_answer(encrypted).data) is None


def test_fleet_settings_and_their_errors(tmp_path: Path) -> None:
    fleet = fleet_from(
        tmp_path,
        "devices:\n"
        f"  - {PANEL}, key: 50616E656C4B657950616E656C4B6579}}, repeat: 2}}\n"
        "  - {id: m, kind: alarm_panel, port: 1502}\n",
    )
    first, second, modbus = fleet.devices
    assert (first.protocol, first.port, first.modbus, first.profile) == (
        "sia", None, None, "alarm-panel-sia")  # fmt: skip
    assert [first.sia.account, second.sia.account] == ["5A17", "5A18"]  # type: ignore[union-attr]
    assert first.sia.key_bytes() == b"PanelKeyPanelKey"  # type: ignore[union-attr]
    assert first.endpoint == "tcp->127.0.0.1:12300"
    assert (modbus.protocol, modbus.profile) == ("modbus", "alarm-panel-modbus")
    assert type(build_model(first, lambda: 0.0)).fault_set() == "alarm_panel/sia"
    assert type(build_model(modbus, lambda: 0.0)).fault_set() == "alarm_panel"

    assert problems(
        tmp_path,
        "devices:\n"
        f"  - {PANEL}}}, modbus: {{unit: 1}}}}\n"
        f"  - {PANEL}}}, port: 1502}}\n"
        "  - {id: q, kind: alarm_panel, sia: {receiver: 127.0.0.1:1, account: 1234}}\n"
        "  - {id: r, kind: alarm_panel, sia: {receiver: 127.0.0.1:1, account: '12'}}\n"
        "  - {id: t, kind: alarm_panel, sia: {receiver: 127.0.0.1:1, account: '123', key: abc}}\n"
        "  - {id: s, kind: alarm_panel, sia: {receiver: nowhere, account: '123', test_period: 0s}}\n",
    ) == [
        "L2: device p: entry: Value error, a panel reports over DC-09 (sia) or serves Modbus, not both",
        "L3: device p: entry: Value error, a DC-09 panel listens on no port: it sends to sia.receiver",
        'L4: device q: sia.account: Value error, quote it ("1234"): DC-09 numbers and keys are text',
        "L5: device r: sia.account: String should have at least 3 characters",
        "L6: device t: sia: Value error, key: an AES key is 32, 48, 64 hex digits",
        "L7: device s: sia.receiver: Value error, 'nowhere' is not HOST:PORT",
        "L7: device s: sia.test_period: Value error, must be more than 0 s",
    ]  # fmt: skip
    assert problems(tmp_path, f"devices:\n  - {PANEL}}}}}\n  - {PANEL}}}}}\n") == [
        "L3: device p: id already used on line 2",
        "L3: device p: account 5A17 at 127.0.0.1:12300 is already used by p (line 2)",
    ]


@pytest.mark.integration  # runs lvgw check-config
def test_site_file_points_the_gateway_at_its_panels(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "devices:\n"
        "  - {id: sw, kind: switch, port: 1161}\n"
        f"  - {PANEL}, key: PanelKeyPanelKey, key_format: text, test_period: 90s,"
        f" receiver_number: '2', events: cid}}, parent: sw}}\n"
    )
    site = tmp_path / "site.yaml"
    write_site_file(site, load_fleet(path))
    doc = yaml.safe_load(site.read_text())
    key_file = tmp_path / "site.secrets" / "p.sia-key"
    assert doc["sia"] == {"listen": "127.0.0.1:12300"}
    assert doc["devices"][1] == {
        "id": "p", "kind": "alarm_panel", "profile": "alarm-panel-sia", "address": "127.0.0.1",
        "sia": {"account": "5A17", "prefix": "0", "receiver": "2", "key_file": str(key_file),
                "key_format": "text", "test_interval": "90s"},
        "interval": "30s", "parent": "sw",
    }  # fmt: skip
    assert key_file.read_text() == "PanelKeyPanelKey\n"
    assert key_file.stat().st_mode & 0o777 == 0o600
    checked = subprocess.run(
        [sys.executable, "-m", "gateway", "check-config", "-c", str(site)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
