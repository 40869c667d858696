"""The HTTP callback of `lvgw-center run`: ``POST /api/v1/tickets/<id>/<action>``
authenticated with a webhook adapter's HMAC, sent to the site like ``lvgw-center ack``,
on a real broker to the gateway's own inbound checks; bad requests answered plainly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from center.adapters.webhook import signature
from center.events import parse_ticket_event
from center.ledger import Ledger
from center.service import Center
from tests.center.conftest import center_file, load, running
from tests.center.events import ticket_event
from tests.center.site_gateway import site_gateway
from tests.realservers import Mosquitto, free_port

pytestmark = pytest.mark.integration
HOOK_KEY = b"helpdesk hook secret"
SITE_KEY = b"site-001 command key"


def setup(tmp_path: Path, broker: Mosquitto) -> tuple[Center, str]:
    (tmp_path / "hook.secret").write_bytes(HOOK_KEY + b"\n")
    (tmp_path / "site.key").write_bytes(SITE_KEY)
    for name in ("hook.secret", "site.key"):
        (tmp_path / name).chmod(0o600)
    port = free_port()
    config = center_file(
        tmp_path, broker,
        adapters=f"[{{type: webhook, url: 'http://127.0.0.1:{free_port()}/', secret_file: hook.secret}}]",
        extra=f"web: {{listen: '127.0.0.1:{port}'}}\n"
              "sites: [{id: site-001, command_key_file: site.key}]\n",
    )  # fmt: skip
    ledger = Ledger.open(tmp_path / "center.db")
    for ticket, kinds in [("t-open", ["open"]), ("t-done", ["open", "resolve"])]:
        for seq, kind in enumerate(kinds, 1):
            topic = "lvgw/v1/site-001/tickets"
            ledger.ingest(parse_ticket_event(topic, ticket_event(ticket, seq, kind)), 1.0)
    ledger.close()
    return Center(load(config)), f"http://127.0.0.1:{port}/api/v1/tickets"


async def post(
    url: str, body: bytes, key: bytes | None = HOOK_KEY, query: str = ""
) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {"X-Lvgw-Signature": signature(key, body)} if key is not None else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + query, data=body, headers=headers) as response,
    ):
        return response.status, await response.json(), dict(response.headers)


async def test_a_signed_callback_reaches_the_gateway(tmp_path: Path, mosquitto: Mosquitto) -> None:
    center, api = setup(tmp_path, mosquitto)
    async with running(center), site_gateway(mosquitto, "site-001", SITE_KEY, {"t-open"}) as gw:
        body = json.dumps({"by": "desk-7", "note": "engineer on the way"}).encode()
        status, answer, headers = await post(f"{api}/t-open/ack", body, query="?wait=10")
        assert status == 200, answer
        assert (answer["state"], answer["site"], answer["signed"]) == ("taken", "site-001", True)
        assert answer["reply"]["acked_by"] == "desk-7"
        (taken,) = gw.taken  # verified with the site's key by the gateway's inbound checks
        assert (taken["action"], taken["by"], taken["note"]) == ("ack", "desk-7",
                                                                 "engineer on the way")  # fmt: skip
        assert headers["X-Content-Type-Options"] == "nosniff"
        # Without waiting: sent, the reply comes later (and is kept in the ledger).
        body = json.dumps({"by": "tech-1", "at": "2026-11-22T10:50:00+08:00"}).encode()
        status, answer, _ = await post(f"{api}/t-open/arrive", body)
        assert (status, answer["state"], answer["action"]) == (202, "sent", "arrived")
        # The gateway refuses: a departure of a ticket it no longer has open.
        gw.open_tickets.clear()
        status, answer, _ = await post(
            f"{api}/t-open/depart", b'{"by": "tech-1"}', query="?wait=10"
        )
        assert (status, answer["state"], answer["error"]) == (422, "refused",
                                                              "no open ticket 't-open'")  # fmt: skip


@pytest.mark.parametrize(
    ("path", "body", "key", "status", "error"),
    [
        ("t-open/ack", b'{"by": "desk-7"}', None, 401, "unauthenticated"),
        ("t-open/ack", b'{"by": "desk-7"}', b"another key", 401, "unauthenticated"),
        ("t-open/ack", b"{not json", HOOK_KEY, 400, "not JSON"),
        ("t-open/ack", b'["desk-7"]', HOOK_KEY, 400, "a JSON object with by expected"),
        ("t-open/ack", b'{"note": "x"}', HOOK_KEY, 400, "by: who it is"),
        ("t-open/ack", b'{"by": "d", "sig": "x"}', HOOK_KEY, 400, "unknown field 'sig'"),
        ("t-open/ack", b'{"by": "d", "at": "2026-11-22T10:50:00Z"}', HOOK_KEY, 400,
         "at: only an arrival or a departure has a time"),
        ("t-open/arrive", b'{"by": "d", "at": 5}', HOOK_KEY, 400, "at: an RFC 3339 time"),
        ("t-open/arrive", b'{"by": "d", "note": 5}', HOOK_KEY, 400, "note: 5 is not of type"),
        ("t-nope/ack", b'{"by": "desk-7"}', HOOK_KEY, 404, "ticket 't-nope' is not in the ledger"),
        ("t-done/ack", b'{"by": "desk-7"}', HOOK_KEY, 409, "is resolved already"),
    ],
)  # fmt: skip
async def test_bad_callbacks_are_answered_plainly_and_send_nothing(
    tmp_path: Path, mosquitto: Mosquitto, path: str, body: bytes, key: bytes | None,
    status: int, error: str,
) -> None:  # fmt: skip
    center, api = setup(tmp_path, mosquitto)
    async with running(center), site_gateway(mosquitto, "site-001", SITE_KEY, {"t-open"}) as gw:
        got, answer, _ = await post(f"{api}/{path}", body, key)
        assert (got, answer["ok"]) == (status, False), answer
        assert error in answer["error"]
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{api}/t-open/close", data=b"{}") as response:
                assert response.status == 404  # not an action
            async with session.get(f"{api}/t-open/ack") as response:
                assert response.status == 405
            big = b'{"by": "' + b"x" * 70_000 + b'"}'
            async with session.post(f"{api}/t-open/ack", data=big) as response:
                assert response.status == 413
        assert gw.raw == []
