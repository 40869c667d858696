"""Sites in the ledger: the last status, since when online or offline, the gateways'
replies kept once; the v1 ledger migrated; ``lvgw-center sites``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from center.cli import main
from center.events import Rejection
from center.ledger import Ledger
from center.ledger.schema import APPLICATION_ID, SCHEMA
from center.replies import Reply, parse_reply
from gateway.sqlite import Schema, open_database

pytestmark = pytest.mark.unit
ONLINE = {"state": "online", "site": "site-001", "version": "0.3.0",
          "backlog": {"ticket": 2, "control": 0, "metric": 5}, "degraded": ["poll:nvr-1"]}  # fmt: skip
OFFLINE = {"state": "offline", "reason": "connection lost"}  # the Last Will: no version


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger.open(tmp_path / "c.db")
    yield opened
    opened.close()


def test_since_moves_only_when_the_site_goes_online_or_offline(ledger: Ledger) -> None:
    ledger.record_status("site-001", ONLINE, 10.0)
    ledger.record_status("site-001", ONLINE | {"uptime_s": 60}, 70.0)  # republished
    (site,) = ledger.sites()
    assert (site["online"], site["since"], site["updated_at"]) == (True, 10.0, 70.0)
    ledger.record_status("site-001", OFFLINE, 80.0)
    (site,) = ledger.sites()
    # Offline since the Last Will; the version and backlog last known are kept.
    assert (site["online"], site["since"], site["version"]) == (False, 80.0, "0.3.0")
    assert site["backlog"] == {"ticket": 2, "control": 0, "metric": 5}
    assert site["status"] == OFFLINE
    ledger.record_status("site-001", ONLINE | {"version": "0.4.0"}, 90.0)
    (site,) = ledger.sites()
    assert (site["online"], site["since"], site["version"]) == (True, 90.0, "0.4.0")


def test_a_reply_is_kept_once_and_found_by_request(ledger: Ledger) -> None:
    payload = json.dumps({"ok": False, "error": "no open ticket 't-9'", "request_id": "r-1"})
    reply = parse_reply("lvgw/v1/site-001/acks-reply", payload.encode())
    assert isinstance(reply, Reply)
    assert (reply.site_id, reply.topic_kind, reply.ok) == ("site-001", "acks", False)
    assert ledger.record_reply(reply, 5.0)
    assert not ledger.record_reply(reply, 6.0)  # the broker sent it again
    assert ledger.reply_to("r-1") == json.loads(payload)
    assert ledger.reply_to("r-2") is None
    command = parse_reply("lvgw/v1/site-001/cmd-reply/maintenance", b'{"ok": true}')
    assert isinstance(command, Reply)
    assert ledger.record_reply(command, 7.0)
    found = ledger.replies("site-001")
    assert [(r["answers"], r["ok"], r["error"]) for r in found] == [
        ("acks", False, "no open ticket 't-9'"), ("cmd/maintenance", True, None)
    ]  # fmt: skip
    ledger.record_status("site-001", ONLINE, 1.0)
    (site,) = ledger.sites()
    assert site["refused_replies"] == 1


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("lvgw/v1/site-001/acks-reply", b"{oops", "not a reply: not JSON"),
        ("lvgw/v1/site-001/acks-reply", b'{"error": "x"}', 'a JSON object with "ok"'),
        ("lvgw/v1/site-001/acks-reply", b"[true]", 'a JSON object with "ok"'),
        ("lvgw/v1/site-001/acks-reply", b"\xff\xfe", "not a reply: not JSON"),
        ("lvgw/v1/site-001/acks-reply", b" " * 70_000, "over 65536 bytes"),
        ("lvgw/v1/site-001/cmd-reply/", b'{"ok": true}', "not a reply topic"),
    ],
)
def test_a_bad_reply_is_a_rejection(topic: str, payload: bytes, reason: str) -> None:
    found = parse_reply(topic, payload)
    assert isinstance(found, Rejection)
    assert reason in found.reason


def test_a_version_1_ledger_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    v1 = Schema(SCHEMA.name, APPLICATION_ID, SCHEMA.migrations[:1])
    db = open_database(path, v1)
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO sites (site_id, online, version, backlog, status, updated_at)"
            " VALUES ('site-001', 1, '0.1.0', NULL, '{\"state\": \"online\"}', 42.0)"
        )
    db.close()
    ledger = Ledger.open(path)
    try:
        (site,) = ledger.sites()
        assert (site["online"], site["since"], site["version"]) == (True, 42.0, "0.1.0")
        assert ledger.replies() == []
    finally:
        ledger.close()


def test_sites_listing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "center.yaml"
    path.write_text(f"broker: {{host: 127.0.0.1}}\ndatabase: sqlite:///{tmp_path}/c.db\n")
    ledger = Ledger.open(tmp_path / "c.db")
    ledger.record_status("site-001", ONLINE, 0.0)
    ledger.record_status("site-002", OFFLINE, 3600.0)
    ledger.close()
    assert main(["sites", "-c", str(path)]) == 0
    header, first, second = capsys.readouterr().out.splitlines()
    assert header.split()[:4] == ["SITE", "STATE", "SINCE", "VERSION"]
    assert first.split()[:5] == ["site-001", "online", "1970-01-01", "00:00:00Z", "0.3.0"]
    assert "ticket:2 control:0 metric:5" in first and "degraded: poll:nvr-1" in first
    assert second.split()[:5] == ["site-002", "OFFLINE", "1970-01-01", "01:00:00Z", "-"]
    assert main(["sites", "-c", str(path), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [(s["site"], s["online"], s["since"]) for s in found] == [
        ("site-001", True, 0.0), ("site-002", False, 3600.0)
    ]  # fmt: skip
