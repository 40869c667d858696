"""Acceptance: the gateway SIGKILLed in the middle of a storm of 1,000 ticket events.

The gateway runs as its own process (tests/delivery/storm_gateway.py: the real
pipeline, ticket store, outbox and uplink). It is killed half way through the storm
and started again on the same state dir, where the devices that were down are still
down. The service center must receive every event the killed process had stored, no
``seq`` gap, per-ticket order, and no second ``open`` for an incident already open.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.delivery.checks import first_copies, reopen_problems, sequence_problems, still_open
from tests.delivery.service_center import ServiceCenter
from tests.delivery.site import write_site
from tests.delivery.storm_gateway import STORM
from tests.realservers import Mosquitto

pytestmark = pytest.mark.integration


class GatewayProcess:
    def __init__(self, site_file: Path) -> None:
        self.site_file = site_file
        self.decided: list[str] = []
        self.loaded = -1
        self.confirmed = -1
        self.drained = asyncio.Event()
        self.lines = asyncio.Condition()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[asyncio.subprocess.Process]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.delivery.storm_gateway", str(self.site_file),
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        reader = asyncio.create_task(self._read(proc), name="storm gateway stdout")
        try:
            yield proc
        finally:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
            await reader

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            word, _, value = raw.decode().strip().partition(" ")
            async with self.lines:
                if word == "decided":
                    self.decided.append(value)
                elif word == "loaded":
                    self.loaded = int(value)
                elif word == "confirmed":
                    self.confirmed = int(value)
                elif word == "drained":
                    self.drained.set()
                self.lines.notify_all()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> None:
        async with asyncio.timeout(timeout), self.lines:
            await self.lines.wait_for(predicate)


async def test_gateway_killed_mid_storm_loses_and_reopens_nothing(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    center = ServiceCenter(mosquitto.host, mosquitto.port, "site-d")
    await center.start()
    mqtt = f"{{host: {mosquitto.host}, port: {mosquitto.port}}}"
    site_file = write_site(tmp_path, "site-d", mqtt, STORM.devices)
    try:
        first = GatewayProcess(site_file)
        async with first.running() as proc:
            await first.wait_for(lambda: len(first.decided) >= STORM.incidents, 60)  # half way
            proc.kill()
        assert first.loaded == 0
        assert not first.drained.is_set()

        second = GatewayProcess(site_file)
        async with second.running() as proc:
            await asyncio.wait_for(second.drained.wait(), 60)
            expected = set(first.decided) | set(second.decided)
            await center.wait_for(lambda: expected <= center.received_ids(), 30)
            await second.wait_for(lambda: second.confirmed >= 0, 10)
            proc.terminate()
            assert await proc.wait() == 0
    finally:
        await center.stop()

    # The second process found the first one's open tickets on disk, and the rules raised
    # some of their faults again: those carried on instead of opening new tickets.
    assert second.loaded > 0
    assert second.confirmed > 0
    received = first_copies(center.events)
    assert sequence_problems(center.events) == []
    assert reopen_problems(center.events) == []
    assert still_open(center.events) == set()
    # Tickets opened before the kill and carried on (resolved) after it.
    first_ids = set(first.decided)
    opened_first = {
        e["ticket_id"] for e in received if e["event_id"] in first_ids and e["event"] == "open"
    }
    resolved_second = {
        e["ticket_id"]
        for e in received
        if e["event_id"] in set(second.decided) and e["event"] == "resolve"
    }
    assert opened_first & resolved_second
