"""The chat robots' pace: at most per_minute messages in any minute, the rest wait."""

from __future__ import annotations

import pytest
from aiohttp import web

from center.adapters.dingtalk import DingTalkAdapter
from center.adapters.robots import Pace
from center.adapters.wecom import WeComAdapter
from center.config import DingTalk, WeCom
from center.ledger import Delivery
from tests.center.conftest import Request, receiving
from tests.center.events import ticket_event


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.unit
async def test_twenty_a_minute_then_each_waits_for_a_slot() -> None:
    clock = Clock()
    pace = Pace(20, 60.0, clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(20):
        await pace.wait()
        sent.append(clock.now)
        clock.now += 0.5  # one every half second
    assert clock.slept == []
    await pace.wait()  # the 21st: one minute after the first
    assert clock.now == 1060.0
    await pace.wait()  # the 22nd: one minute after the second
    assert clock.now == 1060.5
    assert clock.slept == [50.0, 0.5]


@pytest.mark.unit
async def test_a_quiet_minute_frees_every_slot() -> None:
    clock = Clock()
    pace = Pace(2, 60.0, clock=clock, sleep=clock.sleep)
    await pace.wait()
    await pace.wait()
    clock.now += 60.0
    await pace.wait()
    await pace.wait()
    assert clock.slept == []


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["dingtalk", "wecom"])
async def test_each_robot_adapter_keeps_to_per_minute(kind: str) -> None:
    def taken(_request: Request) -> web.Response:
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async with receiving(taken) as robot:
        settings = {"type": kind, "url": f"{robot.url}/send?key=k", "per_minute": 2}
        adapter = (
            DingTalkAdapter(DingTalk.model_validate(settings)) if kind == "dingtalk"
            else WeComAdapter(WeCom.model_validate(settings))
        )  # fmt: skip
        assert adapter._pace.count == 2
        clock = Clock()
        adapter._pace = Pace(2, 60.0, clock=clock, sleep=clock.sleep)
        try:
            for seq in (1, 2, 3):
                payload = ticket_event("t-1", seq, "open" if seq == 1 else "update")
                await adapter.send(Delivery(seq, kind, f"e-{seq}", "t-1", 0, payload))
        finally:
            await adapter.close()
    assert len(robot.requests) == 3
    assert clock.slept == [60.0]  # the third waited for the minute
