"""The dingtalk adapter against a local receiver that checks what DingTalk's custom
robot documentation states: the signed URL (security settings, 加签:
https://open.dingtalk.com/document/robots/customize-robot-security-settings) and the
markdown message (https://open.dingtalk.com/document/robots/message-types-and-data-format),
answering as DingTalk does: HTTP 200 with errcode 0, or another errcode."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from center.adapters.dingtalk import DingTalkAdapter
from center.config import DingTalk
from center.ledger import Delivery
from center.service import Center
from tests.center.conftest import (
    Request,
    center_file,
    load,
    publish,
    receiving,
    running,
    wait_counts,
    write_secret,
)
from tests.center.events import ticket_event

pytestmark = pytest.mark.integration
SECRET = "SECa1b2c3d4e5f6g7h8i9j0"
TOKEN = "0123456789abcdef"


def ok() -> web.Response:
    return web.json_response({"errcode": 0, "errmsg": "ok"})


def refusal(errcode: int, errmsg: str) -> web.Response:
    return web.json_response({"errcode": errcode, "errmsg": errmsg})  # HTTP 200


def robot(secret: str, refuse_first: int = 0) -> Any:
    """DingTalk's checks: the access_token, a timestamp (ms) within an hour, and sign =
    urlEncode(Base64(HmacSHA256(key=secret, timestamp + "\\n" + secret)))."""
    refused = [refuse_first]

    def answer(request: Request) -> web.Response:
        # parse_qs decodes %2B to '+' and a bare '+' to a space, as a server does.
        params = urllib.parse.parse_qs(request.query, strict_parsing=True)
        if params.get("access_token") != [TOKEN]:
            return refusal(300001, "token is not exist")
        timestamp = params["timestamp"][0]
        if abs(int(timestamp) - time.time() * 1000) > 3600 * 1000:
            return refusal(310000, "timestamp is over one hour")
        to_sign = f"{timestamp}\n{secret}".encode()
        expected = base64.b64encode(hmac.new(secret.encode(), to_sign, hashlib.sha256).digest())
        if params["sign"] != [expected.decode()]:
            return refusal(310000, "sign not match")
        message = json.loads(request.body)
        assert request.headers["Content-Type"].startswith("application/json")
        assert set(message) == {"msgtype", "markdown"}
        assert message["msgtype"] == "markdown"
        assert set(message["markdown"]) == {"title", "text"}
        if refused[0]:
            refused[0] -= 1
            return refusal(410100, "send too fast, exceed 20 times per minute")
        return ok()

    return answer


def messages(requests: list[Request]) -> list[dict[str, Any]]:
    return [json.loads(r.body)["markdown"] for r in requests]


def dingtalk_center(
    tmp_path: Path, mosquitto: Any, url: str, secret: str, more: str = ""
) -> Center:
    write_secret(tmp_path / "ding.secret", secret.encode() + b"\n")
    adapters = (
        f"[{{type: dingtalk, url: '{url}/robot/send?access_token={TOKEN}',"
        f" secret_file: ding.secret, backoff_initial: 0.02, backoff_max: 0.1{more}}}]"
    )
    return Center(load(center_file(tmp_path, mosquitto, adapters)))


async def test_events_arrive_signed_as_markdown_in_order(tmp_path: Path, mosquitto: Any) -> None:
    async with receiving(robot(SECRET)) as receiver:
        center = dingtalk_center(tmp_path, mosquitto, receiver.url, SECRET)
        published = [ticket_event("t-1", 1), ticket_event("t-1", 2, "resolve")]
        async with running(center):
            await publish(mosquitto, published)
            await wait_counts(center, {"dingtalk": {"delivered": 2}})
    assert len(receiver.requests) == 2
    opened, resolved = messages(receiver.requests)
    assert opened["title"] == "[L1] site-001: Switch sw-core is unreachable"
    assert opened["text"].startswith("### [L1] site-001: Switch sw-core is unreachable\n\n")
    assert "**Opened: L1, system down" in opened["text"]
    assert "**Respond by:** 2026-11-22 10:46:46 UTC" in opened["text"]
    assert "**On site by:** 2026-11-22 12:36:46 UTC" in opened["text"]
    assert "**Resolved: L1" in resolved["text"]
    assert "**Resolved:** 2026-11-22 11:36:46 UTC" in resolved["text"]


async def test_an_errcode_with_http_200_is_a_failure_retried(
    tmp_path: Path, mosquitto: Any
) -> None:
    async with receiving(robot(SECRET, refuse_first=2)) as receiver:
        center = dingtalk_center(tmp_path, mosquitto, receiver.url, SECRET)
        async with running(center):
            await publish(mosquitto, [ticket_event("t-1", 1)])
            await wait_counts(center, {"dingtalk": {"delivered": 1}})
    assert len(receiver.requests) == 3  # two refused (410100), then taken


async def test_a_wrong_secret_is_refused_and_dead_lettered(
    tmp_path: Path, mosquitto: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with receiving(robot(SECRET)) as receiver:
        center = dingtalk_center(tmp_path, mosquitto, receiver.url, "SECwrong", ", dead_after: 2")
        async with running(center):
            await publish(mosquitto, [ticket_event("t-1", 1)])
            await wait_counts(center, {"dingtalk": {"dead": 1}})
    assert len(receiver.requests) == 2
    assert "errcode 310000: sign not match" in caplog.text


async def test_the_url_from_a_file_and_no_secret(tmp_path: Path) -> None:
    """A robot secured by keywords or addresses, not signing: no timestamp, no sign."""

    def answer(request: Request) -> web.Response:
        assert urllib.parse.parse_qs(request.query) == {"access_token": [TOKEN]}
        return ok()

    async with receiving(answer) as receiver:
        url_file = write_secret(
            tmp_path / "ding.url", f"{receiver.url}/robot/send?access_token={TOKEN}\n".encode()
        )
        adapter = DingTalkAdapter(
            DingTalk.model_validate({"type": "dingtalk", "url_file": url_file})
        )
        try:
            await adapter.send(Delivery(1, "dingtalk", "e-1", "t-1", 0, ticket_event("t-1", 1)))
        finally:
            await adapter.close()
    (request,) = receiver.requests
    assert request.path == "/robot/send"
