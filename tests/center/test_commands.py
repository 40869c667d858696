"""``lvgw-center ack|arrive|depart``: to the ticket's site on a real broker, signed with
the site's command key, the gateway's reply awaited; unknown and resolved tickets, bad
fields and a broker that is down said plainly."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from center.cli import main
from center.events import parse_ticket_event
from center.ledger import Ledger
from gateway.signing import load_key
from tests.center.events import ticket_event
from tests.center.site_gateway import site_gateway
from tests.realservers import Mosquitto, free_port

pytestmark = pytest.mark.integration
KEY = b"site-001 command key"


def center_yaml(tmp_path: Path, port: int, keyed: bool = True) -> Path:
    key = tmp_path / "site-001.key"
    key.write_bytes(KEY + b"\n")
    key.chmod(0o600)
    sites = "sites: [{id: site-001, command_key_file: site-001.key}]\n" if keyed else ""
    path = tmp_path / "center.yaml"
    path.write_text(
        f"broker: {{host: 127.0.0.1, port: {port}}}\ndatabase: sqlite:///{tmp_path}/c.db\n{sites}"
    )
    ledger = Ledger.open(tmp_path / "c.db")
    for ticket, seqs in [("t-open", ["open"]), ("t-done", ["open", "resolve"])]:
        for seq, kind in enumerate(seqs, 1):
            topic = "lvgw/v1/site-001/tickets"
            ledger.ingest(parse_ticket_event(topic, ticket_event(ticket, seq, kind)), 1.0)
    ledger.close()
    return path


async def cli(*args: str) -> int:
    return await asyncio.to_thread(main, list(args))


async def test_an_ack_is_signed_and_taken_by_the_gateway(
    tmp_path: Path, mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    config = center_yaml(tmp_path, mosquitto.port)
    assert load_key(tmp_path / "site-001.key") == KEY
    async with site_gateway(mosquitto, "site-001", KEY, {"t-open"}) as gateway:
        code = await cli("ack", "t-open", "--by", "desk-7", "--note", "on it", "-c", str(config))
        assert code == 0, capsys.readouterr()
        assert (
            "t-open (site site-001): acknowledgement by desk-7 taken by the gateway (signed)"
            in (capsys.readouterr().out)
        )
        (taken,) = gateway.taken  # verified by the gateway's own inbound checks
        assert {k: taken[k] for k in ("ticket_id", "action", "by", "note")} == {
            "ticket_id": "t-open", "action": "ack", "by": "desk-7", "note": "on it"
        }  # fmt: skip
        assert {"ts", "nonce", "sig"} <= set(gateway.raw[0])
        code = await cli("arrive", "t-open", "--by", "tech-1", "--at", "2026-11-22T10:50:00Z",
                         "-c", str(config))  # fmt: skip
        assert code == 0
        assert [(t["action"], t.get("at")) for t in gateway.taken[1:]] == [
            ("arrived", "2026-11-22T10:50:00Z")
        ]


async def test_a_gateway_with_a_key_refuses_an_unsigned_ack(
    tmp_path: Path, mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    config = center_yaml(tmp_path, mosquitto.port, keyed=False)
    async with site_gateway(mosquitto, "site-001", KEY, {"t-open"}) as gateway:
        assert await cli("depart", "t-open", "--by", "tech-1", "-c", str(config)) == 1
        err = capsys.readouterr().err
        assert "refused by the gateway: unauthenticated: the message is not signed" in err
        assert gateway.taken == []


async def test_unknown_resolved_and_bad_input_are_refused_before_sending(
    tmp_path: Path, mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    config = center_yaml(tmp_path, mosquitto.port)
    async with site_gateway(mosquitto, "site-001", KEY, {"t-open", "t-done"}) as gateway:
        assert await cli("ack", "t-nope", "--by", "desk-7", "-c", str(config)) == 1
        assert "ticket 't-nope' is not in the ledger" in capsys.readouterr().err
        assert await cli("ack", "t-done", "--by", "desk-7", "-c", str(config)) == 1
        assert "ticket 't-done' of site site-001 is resolved already" in capsys.readouterr().err
        assert await cli("arrive", "t-open", "--by", "x", "--at", "10:50", "-c", str(config)) == 2
        assert "at: not an RFC 3339 time" in capsys.readouterr().err
        assert await cli("arrive", "t-open", "--by", "x", "--at", "2026-11-22T10:50:00",
                         "-c", str(config)) == 2  # fmt: skip
        assert "at: no UTC offset" in capsys.readouterr().err
        assert await cli("ack", "t-open", "--by", "", "-c", str(config)) == 2
        assert "by: '' should be non-empty" in capsys.readouterr().err
        await asyncio.sleep(0.2)  # nothing was published: the gateway saw nothing
        assert gateway.raw == []


async def test_no_gateway_online_is_no_failure_and_the_message_waits(
    tmp_path: Path, mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    config = center_yaml(tmp_path, mosquitto.port)
    assert await cli("ack", "t-open", "--by", "desk-7", "--wait", "0.3", "-c", str(config)) == 0
    assert "no reply yet: the gateway takes it from the broker" in capsys.readouterr().out


async def test_a_broker_down_is_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = center_yaml(tmp_path, free_port())
    assert await cli("ack", "t-open", "--by", "desk-7", "-c", str(config)) == 1
    err = capsys.readouterr().err
    assert err.startswith("lvgw-center: broker 127.0.0.1:") and "nothing was sent" in err
