"""The wecom adapter against a local receiver that checks what WeCom's group robot
documentation states (群机器人配置说明,
https://developer.work.weixin.qq.com/document/path/91770): a POST to the webhook URL
with its key, ``{"msgtype": "markdown", "markdown": {"content": ...}}``, the content
UTF-8 and at most 4096 bytes; answered HTTP 200 with errcode 0, or another errcode."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from center.adapters import DeliveryError
from center.adapters.wecom import WeComAdapter
from center.config import WeCom
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
)
from tests.center.events import ticket_event

pytestmark = pytest.mark.integration
KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


def robot(refuse_first: int = 0) -> Any:
    refused = [refuse_first]

    def answer(request: Request) -> web.Response:
        if urllib.parse.parse_qs(request.query) != {"key": [KEY]}:
            return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"})
        message = json.loads(request.body)
        assert set(message) == {"msgtype", "markdown"}
        assert message["msgtype"] == "markdown"
        assert set(message["markdown"]) == {"content"}
        if len(message["markdown"]["content"].encode("utf-8")) > 4096:
            return web.json_response(
                {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
            )
        if refused[0]:
            refused[0] -= 1
            return web.json_response({"errcode": 45009, "errmsg": "api freq out of limit"})
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    return answer


def contents(requests: list[Request]) -> list[str]:
    return [json.loads(r.body)["markdown"]["content"] for r in requests]


def wecom_center(tmp_path: Path, mosquitto: Any, url: str, more: str = "") -> Center:
    adapters = (
        f"[{{type: wecom, url: '{url}/cgi-bin/webhook/send?key={KEY}',"
        f" backoff_initial: 0.02, backoff_max: 0.1{more}}}]"
    )
    return Center(load(center_file(tmp_path, mosquitto, adapters)))


async def test_events_arrive_as_markdown_retried_on_an_errcode(
    tmp_path: Path, mosquitto: Any
) -> None:
    async with receiving(robot(refuse_first=2)) as receiver:
        center = wecom_center(tmp_path, mosquitto, receiver.url)
        published = [ticket_event("t-1", 1), ticket_event("t-1", 2, "resolve")]
        async with running(center):
            await publish(mosquitto, published)
            await wait_counts(center, {"wecom": {"delivered": 2}})
    assert len(receiver.requests) == 4  # the first refused twice (45009), then both taken
    assert {r.path for r in receiver.requests} == {"/cgi-bin/webhook/send"}
    *refused, opened, resolved = contents(receiver.requests)
    assert refused == [opened, opened]
    assert opened.splitlines()[:2] == [
        "### [L1] site-001: Switch sw-core is unreachable",
        "**Opened: L1, system down: the system is paralysed or its service interrupted**",
    ]
    assert "**Respond by:** 2026-11-22 10:46:46 UTC" in opened.splitlines()
    assert "**Resolved:** 2026-11-22 11:36:46 UTC" in resolved.splitlines()


async def send_one(url: str, payload: bytes) -> None:
    """One event through a WeCom adapter of ``url``, as the delivery loop sends it."""
    adapter = WeComAdapter(WeCom.model_validate({"type": "wecom", "url": url}))
    try:
        await adapter.send(Delivery(1, "wecom", "e-1", "t-1", 0, payload))
    finally:
        await adapter.close()


async def test_a_long_ticket_is_cut_to_4096_bytes() -> None:
    """A long title, in Chinese here (three bytes a character), twice in the text: the
    content stays within WeCom's limit, cut at a whole line, and says what it left off."""
    title = "交换机 sw-core 无法访问 " * 80  # 2,320 bytes
    async with receiving(robot()) as receiver:
        await send_one(f"{receiver.url}/cgi-bin/webhook/send?key={KEY}",
                       ticket_event("t-1", 1, title=title))  # fmt: skip
    (content,) = contents(receiver.requests)
    assert len(content.encode()) <= 4096
    lines = content.splitlines()
    assert lines[0] == f"### [L1] site-001: {title.strip()}"
    assert "**Respond by:** 2026-11-22 10:46:46 UTC" in lines
    assert lines[-1] == "(2 more lines left off)"  # the service needed, and the ticket


async def test_a_refusal_says_the_errcode() -> None:
    async with receiving(robot()) as receiver:
        with pytest.raises(DeliveryError, match="errcode 93000: invalid webhook url"):
            await send_one(f"{receiver.url}/send?key=wrong", ticket_event("t-1", 1))


async def test_an_answer_that_is_not_json_is_a_failure() -> None:
    async with receiving(lambda _request: web.Response(text="<html>proxy</html>")) as receiver:
        with pytest.raises(DeliveryError, match="HTTP 200 without a JSON answer"):
            await send_one(f"{receiver.url}/send?key={KEY}", ticket_event("t-1", 1))
