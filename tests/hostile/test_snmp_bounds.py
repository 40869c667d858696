"""Finding 4: a hostile or broken SNMP agent cannot exhaust memory or hold a poll.

A walk is bounded in bytes as well as in varbinds (100,000 varbinds of 60 kB each
would be 6 GB), a poll in bytes and in time. The agent here never ends its table,
answers with values as large as a datagram holds, or drips its answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from drivers.snmp import SnmpProtocolError, SnmpTarget
from drivers.snmp.driver import SnmpDriver
from drivers.snmp.lean import LeanSnmpClient
from drivers.tasks import stop_task
from gateway.config import load_config
from gateway.config.load import LoadedConfig
from gateway.poller import DeviceSchedule, PollResult
from gateway.protocols.snmp.reader import SnmpPointReader
from tests.hostile.snmp_agent import HostileSnmpAgent

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"


@pytest.fixture
async def agent() -> AsyncIterator[HostileSnmpAgent]:
    hostile = await HostileSnmpAgent(give_up_after=48 * MIB).start()
    try:
        yield hostile
    finally:
        hostile.close()


async def test_a_walk_stops_at_its_byte_budget(agent: HostileSnmpAgent) -> None:
    client = LeanSnmpClient()
    target = SnmpTarget("127.0.0.1", agent.port, timeout=1.0, retries=0)
    try:
        with pytest.raises(SnmpProtocolError, match="bytes"):
            await client.walk(target, [IF_DESCR])
    finally:
        await client.close()
    # The default budget (4 MiB), and at most one answer more.
    assert agent.served <= 4 * MIB + 64 * 1024, agent.served


def site(tmp_path: Path, port: int, limits: str) -> LoadedConfig:
    path = tmp_path / "site.yaml"
    path.write_text(
        "site: {id: s, name: S, customer: {name: C}, contract: {type: annual}}\n"
        "uplink: {mqtt: {host: 127.0.0.1}}\n"
        f"limits: {limits}\n"
        "devices:\n"
        f"  - {{id: sw, kind: switch, profile: switch-generic, address: 127.0.0.1,"
        f" port: {port}, interval: 60s, snmp: {{timeout: 1s, retries: 0}}}}\n"
    )
    return load_config(path)


async def test_a_poll_stops_at_its_byte_budget(tmp_path: Path, agent: HostileSnmpAgent) -> None:
    cfg = site(tmp_path, agent.port, "{poll_bytes: 1MiB, walk_bytes: 4MiB}")
    device = cfg.devices[0]
    driver = SnmpDriver()
    try:
        reader = SnmpPointReader(device, cfg.profile_of(device), driver, cfg.site_file.limits)
        result = await reader.poll()
    finally:
        await driver.close()
    assert not result.reachable
    assert "bytes" in (result.error or ""), result.error
    assert agent.served <= 1 * MIB + 64 * 1024, agent.served


async def test_a_dripping_agent_meets_the_poll_deadline(tmp_path: Path) -> None:
    # Each answer 0.3 s late (inside the 1 s timeout), small, and the table never ends.
    agent = await HostileSnmpAgent(value_bytes=100, delay=0.3).start()
    cfg = site(tmp_path, agent.port, "{poll_deadline: 2s}")
    device = cfg.devices[0]
    driver = SnmpDriver()
    results: asyncio.Queue[PollResult] = asyncio.Queue()
    reader = SnmpPointReader(device, cfg.profile_of(device), driver, cfg.site_file.limits)
    schedule = DeviceSchedule(
        device.id, reader, device.interval, results, first_delay=0,
        deadline=cfg.site_file.limits.poll_deadline,
    )  # fmt: skip
    task = asyncio.create_task(schedule.run(), name="dripped")
    started = time.monotonic()
    try:
        async with asyncio.timeout(10):
            result = await results.get()
    finally:
        await stop_task(task)
        agent.close()
        await driver.close()
    took = time.monotonic() - started
    assert not result.reachable
    assert "deadline" in (result.error or ""), result.error
    # Not before the deadline; and it did end, though the table never does (the
    # 10 s wait above bounds it, however loaded the machine).
    assert took >= 1.9, took
