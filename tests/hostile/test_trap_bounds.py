"""Findings 7 and 8: traps neither amplify polls nor grow the intake's state or logs.

Before: each trap from a device's (spoofable) address triggered an immediate poll,
200 traps/s made 7,722 requests in 20 s; the intake counted every unknown sender and
every undeclared trap OID without bound and logged each unknown sender with its full
OID (18.7 MB of log from 2,000 datagrams)."""

from __future__ import annotations

import asyncio
import io
import itertools
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drivers.snmp.traps import TrapMessage
from drivers.tasks import stop_task
from gateway import logs
from gateway.config import load_config
from gateway.config.load import LoadedConfig
from gateway.poller import DeviceSchedule, PollResult
from gateway.protocols.snmp.traps import TrapIntake

LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"


class CountingReader:
    def __init__(self) -> None:
        self.polls = 0
        self.at: list[float] = []  # the loop's clock at each poll

    async def poll(self) -> PollResult:
        self.polls += 1
        self.at.append(asyncio.get_running_loop().time())
        return PollResult("sw", datetime.now(UTC), True, ())


async def trap_storm(schedule: DeviceSchedule, seconds: float, per_second: int = 200) -> float:
    """Traps for ``seconds`` (longer on a loaded machine); the loop's clock at the last.

    The clock is read as the last trap asks for its poll, not after the pause that
    follows it: on a loaded machine that pause is long, the poll may come within it,
    and a time read after it would wait for a poll that is not due."""
    loop = asyncio.get_running_loop()
    last = loop.time()
    for _ in range(int(seconds * per_second)):
        last = loop.time()
        schedule.poll_now()
        await asyncio.sleep(1 / per_second)
    return last


async def run_storm(
    schedule: DeviceSchedule, reader: CountingReader, seconds: float, last_poll: bool = True
) -> float:
    """A storm, then (``last_poll``) until the poll that its last traps asked for, at the
    end of the window they fell in. The storm's length on the loop's clock."""
    loop = asyncio.get_running_loop()
    task = asyncio.create_task(schedule.run(), name="stormed")
    try:
        started = loop.time()
        last_trap = await trap_storm(schedule, seconds)
        async with asyncio.timeout(schedule.early_every + 5):
            while last_poll and (not reader.at or reader.at[-1] < last_trap):
                await asyncio.sleep(0.01)
        return last_trap - started
    finally:
        await stop_task(task)


def gaps(reader: CountingReader) -> list[float]:
    return [b - a for a, b in itertools.pairwise(reader.at)]


async def test_a_trap_storm_polls_the_device_once_by_default() -> None:
    reader = CountingReader()
    out: asyncio.Queue[PollResult] = asyncio.Queue()
    schedule = DeviceSchedule("sw", reader, 300.0, out, first_delay=300.0)
    lasted = await run_storm(schedule, reader, 2.0, last_poll=False)
    # One poll at the first trap; the rest wait for the end of the 10 s window.
    assert lasted < 10.0, "the machine is too slow for this storm to fit in one window"
    assert reader.polls == 1


async def test_traps_within_the_window_are_coalesced_into_one_poll_at_its_end() -> None:
    reader = CountingReader()
    out: asyncio.Queue[PollResult] = asyncio.Queue()
    schedule = DeviceSchedule("sw", reader, 300.0, out, first_delay=300.0, early_every=0.5)
    await run_storm(schedule, reader, 2.0)
    # At the first trap, then once per 0.5 s while traps keep coming: not one per trap
    # (400), and none lost (the last window's traps got their poll too).
    assert reader.polls >= 4, reader.at
    assert min(gaps(reader)) >= 0.5 - 0.01, gaps(reader)
    assert reader.polls <= 1 + (reader.at[-1] - reader.at[0]) / 0.5 + 0.01, reader.at


def site(tmp_path: Path, limits: str = "{}") -> LoadedConfig:
    path = tmp_path / "site.yaml"
    path.write_text(
        "site: {id: s, name: S, customer: {name: C}, contract: {type: annual}}\n"
        "uplink: {mqtt: {host: 127.0.0.1}}\n"
        "traps: {listen: '127.0.0.1:16200'}\n"
        f"limits: {limits}\n"
        "devices:\n"
        "  - {id: sw, kind: switch, profile: switch-generic, address: 192.0.2.1}\n"
    )
    return load_config(path)


def trap(sender: str, oid: str) -> TrapMessage:
    return TrapMessage(sender, 162, "2c", "public", oid, 0, (), 0.0)


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    """What the gateway's own log handler (logs.setup) writes, in memory."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    logs.setup("info", stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_unknown_senders_and_undeclared_traps_are_counted_within_bounds(
    tmp_path: Path, log_text: io.StringIO
) -> None:
    config = site(tmp_path)
    intake = TrapIntake(config, asyncio.Queue(), lambda device: None)
    huge_oid = "1.3.6.1.4.1." + ".".join(["4294967295"] * 5000)
    for i in range(2_000):
        intake.readings(trap(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", huge_oid + f".{i}"))
    for i in range(5_000):
        intake.readings(trap("192.0.2.1", f"1.3.6.1.4.1.9999.{i}"))
    limits = config.site_file.limits
    assert len(intake.unknown_senders) <= limits.trap_senders
    assert len(intake.undeclared) <= limits.trap_oids
    assert intake.unknown_senders.total == 2_000  # counted, though not all remembered
    assert intake.undeclared.total == 5_000
    written = log_text.getvalue()
    assert len(written) < 50_000, f"{len(written)} bytes of log"
    assert max(len(line) for line in written.splitlines()) <= limits.log_line_chars
    assert "suppressed" in written  # the reader learns that lines were left out
