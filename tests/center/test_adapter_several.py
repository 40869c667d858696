"""Several adapters in one center on its SQLite ledger: each has its own loop and its
own claim on the shared connection; one that hangs holds back no other."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp import web

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
from tests.realservers import Mosquitto

pytestmark = pytest.mark.integration


async def test_a_hung_adapter_holds_back_no_other(
    tmp_path: Path, mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    let_go = asyncio.Event()

    def taken(_request: Request) -> web.Response:
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def hang(request: Request) -> web.Response:
        await let_go.wait()
        return taken(request)

    async with receiving(hang) as wecom, receiving(taken) as dingtalk:
        adapters = (
            f"[{{type: wecom, url: '{wecom.url}/send?key=k', timeout: 60s, per_minute: 600}},"
            f" {{type: dingtalk, url: '{dingtalk.url}/send?access_token=t', per_minute: 600}}]"
        )
        center = Center(load(center_file(tmp_path, mosquitto, adapters)))
        async with running(center):
            await publish(mosquitto, [ticket_event(f"t-{i}", 1) for i in range(20)])
            await wait_counts(center, {"wecom": {"pending": 20}, "dingtalk": {"delivered": 20}})
            assert len(wecom.requests) == 1  # the first, hanging
            let_go.set()
            await wait_counts(center, {"wecom": {"delivered": 20}, "dingtalk": {"delivered": 20}})
    assert len(wecom.requests) == len(dingtalk.requests) == 20
    assert "ledger" not in caplog.text  # no adapter's loop tripped on another's claim
