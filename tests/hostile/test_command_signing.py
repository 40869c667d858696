"""Finding 3: anyone who could publish to ``cmd/maintenance`` silenced every ticket.

With ``uplink.command_key_file`` set, every ``acks`` and ``cmd/<name>`` message must be
signed (``ts``, ``nonce``, ``sig``: gateway/signing.py); anything unsigned, mis-signed,
stale or replayed gets ``{"ok": false, "error": "unauthenticated: ..."}`` and changes
nothing. Without a key, check-config warns; with a plain anonymous uplink too."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway import signing
from gateway.correlate import (
    MAINTENANCE_COMMAND_SCHEMA,
    MaintenanceStore,
    handle_maintenance_command,
)
from gateway.uplink.inbound import Inbound
from tests.correlate.kit import SITE

KEY = b"k3y-of-the-service-center"
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SET = {"action": "set", "target": "site", "for": "2h", "by": "intruder", "request_id": "r1"}


def test_the_signature_is_hmac_sha256_over_the_canonical_json() -> None:
    signed = signing.sign({"b": "ü", "a": 1}, KEY, now=NOW, nonce="n-1")
    assert signed["ts"] == "2026-01-05T09:00:00.000Z" and signed["nonce"] == "n-1"
    # Computed here from the documented recipe, not with the module's own helper.
    text = '{"a":1,"b":"ü","nonce":"n-1","ts":"2026-01-05T09:00:00.000Z"}'
    assert signed["sig"] == hmac.new(KEY, text.encode(), hashlib.sha256).hexdigest()


def test_the_key_file_loses_its_trailing_newline(tmp_path: Path) -> None:
    (tmp_path / "key").write_bytes(KEY + b"\n")
    assert signing.load_key(tmp_path / "key") == KEY


def verifier(now: datetime = NOW) -> signing.Verifier:
    return signing.Verifier(KEY, clock=lambda: now)


@pytest.mark.parametrize(
    ("message", "why"),
    [
        (SET, "not signed"),
        ({**signing.sign(SET, KEY, now=NOW), "by": "someone else"}, "bad signature"),
        (signing.sign(SET, b"another key", now=NOW), "bad signature"),
        ({**signing.sign(SET, KEY, now=NOW), "sig": "ABC"}, "lowercase hex"),
        (signing.sign(SET, KEY, now=NOW - timedelta(minutes=6)), "more than 5 minutes"),
        (signing.sign(SET, KEY, now=NOW + timedelta(minutes=6)), "more than 5 minutes"),
    ],
)
def test_unsigned_mis_signed_and_stale_messages_are_refused(
    message: dict[str, Any], why: str
) -> None:
    with pytest.raises(signing.Unauthenticated, match=why):
        verifier().verify(message)


def test_a_replay_is_refused() -> None:
    check = verifier()
    message = signing.sign(SET, KEY, now=NOW)
    check.verify(message)
    with pytest.raises(signing.Unauthenticated, match="replayed"):
        check.verify(message)
    check.verify(signing.sign(SET, KEY, now=NOW))  # a fresh nonce is fine


def test_a_replay_is_refused_by_the_agent_after_a_new_site_file() -> None:
    """The agent restarted in the same process on a new site file (cmd/config) takes
    over the nonces: a message seen before stays a replay."""
    check = verifier()
    message = signing.sign(SET, KEY, now=NOW)
    check.verify(message)
    successor = check.carried_over(KEY)
    with pytest.raises(signing.Unauthenticated, match="replayed"):
        successor.verify(message)
    successor.verify(signing.sign(SET, KEY, now=NOW))


def maintenance_inbound(
    tmp_path: Path, check: signing.Verifier | None
) -> tuple[Inbound, MaintenanceStore, list[dict[str, Any]]]:
    store = MaintenanceStore(tmp_path / "state", SITE)
    acked: list[dict[str, Any]] = []

    async def on_ack(body: dict[str, Any]) -> dict[str, Any]:
        acked.append(body)
        return {"ok": True, "ticket_id": body["ticket_id"]}

    async def maintenance(body: dict[str, Any]) -> dict[str, Any]:
        return handle_maintenance_command(store, body, now=NOW)

    commands = {"maintenance": (MAINTENANCE_COMMAND_SCHEMA, maintenance)}
    return Inbound(on_ack, commands, verifier=check), store, acked


async def test_an_unsigned_maintenance_command_changes_nothing(tmp_path: Path) -> None:
    inbound, store, _ = maintenance_inbound(tmp_path, verifier())
    reply = await inbound.handle("cmd/maintenance", json.dumps(SET).encode())
    assert reply == (
        "cmd-reply/maintenance",
        {"ok": False, "error": "unauthenticated: the message is not signed (no sig)",
         "request_id": "r1"},
    )  # fmt: skip
    assert store.maintenance(NOW) == []
    assert not store.path.exists()


async def test_signed_commands_and_acks_go_through(tmp_path: Path) -> None:
    inbound, store, acked = maintenance_inbound(tmp_path, verifier())
    command = json.dumps(signing.sign(SET, KEY, now=NOW)).encode()
    _, body = await inbound.handle("cmd/maintenance", command) or ("", {})
    assert body["ok"] is True, body
    assert [w.target for w in store.maintenance(NOW)] == ["site"]
    # The same bytes again: a replay.
    _, again = await inbound.handle("cmd/maintenance", command) or ("", {})
    assert again["ok"] is False and again["error"].startswith("unauthenticated: replayed")
    ack = signing.sign({"ticket_id": "t-1", "action": "ack", "by": "desk"}, KEY, now=NOW)
    _, body = await inbound.handle("acks", json.dumps(ack).encode()) or ("", {})
    assert body["ok"] is True
    assert acked == [{"ticket_id": "t-1", "action": "ack", "by": "desk"}]  # fields taken off


async def test_an_unsigned_ack_changes_nothing(tmp_path: Path) -> None:
    inbound, _, acked = maintenance_inbound(tmp_path, verifier())
    ack = {"ticket_id": "t-1", "action": "ack", "by": "desk"}
    _, body = await inbound.handle("acks", json.dumps(ack).encode()) or ("", {})
    assert body["ok"] is False and body["error"].startswith("unauthenticated: ")
    assert acked == []


async def test_without_a_key_signed_messages_are_still_understood(tmp_path: Path) -> None:
    inbound, store, _ = maintenance_inbound(tmp_path, None)
    command = json.dumps(signing.sign(SET, KEY, now=NOW)).encode()
    _, body = await inbound.handle("cmd/maintenance", command) or ("", {})
    assert body["ok"] is True, body
    assert [w.target for w in store.maintenance(NOW)] == ["site"]


SITE_FILE = """\
site: {{id: s, name: S, customer: {{name: C}}, contract: {{type: annual}}, timezone: UTC}}
uplink:
  mqtt: {mqtt}
{key}devices:
  - {{id: sw-1, kind: switch, profile: switch-generic, address: 192.0.2.1}}
"""


def check_config(tmp_path: Path, mqtt: str, key: bool) -> list[str]:
    (tmp_path / "command.key").write_bytes(KEY + b"\n")
    (tmp_path / "command.key").chmod(0o600)
    path = tmp_path / "site.yaml"
    key_line = "  command_key_file: command.key\n" if key else ""
    path.write_text(SITE_FILE.format(mqtt=mqtt, key=key_line))
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "check-config", "-c", str(path)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stderr.splitlines()


@pytest.mark.integration
def test_check_config_warns_without_a_command_key(tmp_path: Path) -> None:
    lines = check_config(tmp_path, "{host: broker.example, port: 8883, tls: {}}", key=False)
    assert len(lines) == 1, lines
    assert ":2: warning: field 'uplink.command_key_file' is not set" in lines[0]


@pytest.mark.integration
def test_check_config_warns_of_a_plain_anonymous_uplink(tmp_path: Path) -> None:
    lines = check_config(tmp_path, "{host: broker.example}", key=True)
    assert len(lines) == 1, lines
    assert ":3: warning: field 'uplink.mqtt'" in lines[0] and "anonymous" in lines[0]


@pytest.mark.integration
def test_a_signed_tls_uplink_with_a_user_passes_quietly(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("secret\n")
    (tmp_path / "pw").chmod(0o600)
    mqtt = "{host: broker.example, port: 8883, tls: {}, username: s, password_file: pw}"
    assert check_config(tmp_path, mqtt, key=True) == []


def test_the_desk_signs_its_acknowledgements_when_given_the_key() -> None:
    from gateway import desk

    event = {"event_id": "e1", "event": "open", "ticket_id": "site-1-x", "site": {"id": "site-1"}}
    _, payload = desk.Desk("desk-7", key=KEY).ack_for(event) or ("", b"")
    body = json.loads(payload)
    check = signing.Verifier(KEY)
    check.verify(body)  # signed, fresh
    assert {k: body[k] for k in ("ticket_id", "action", "by")} == {
        "ticket_id": "site-1-x", "action": "ack", "by": "desk-7"
    }  # fmt: skip
