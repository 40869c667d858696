"""The sia protocol in the gateway: site file, registry, receiver on a real socket,
readings through the shipped profile, the rules' faults and the supervision rule,
the panels' state across a restart."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from drivers.tasks import stop_task
from gateway.config import load_config
from gateway.config.errors import ConfigError
from gateway.config.load import LoadedConfig
from gateway.model import Value
from gateway.poller.result import PollResult
from gateway.protocols.registry import Drivers
from gateway.rules.engine import RuleEngine
from tests.drivers.sia.build import pysia_frame, stamp
from tests.readings import by_key

pytestmark = pytest.mark.integration

KEY = "PanelKeyPanelKey"  # AES-128 as text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def site(tmp_path: Path, receiver: bool = True, device_section: bool = True) -> Path:
    (tmp_path / "panel.key").write_text(KEY + "\n")
    (tmp_path / "panel.key").chmod(0o600)
    section = f"sia: {{listen: 127.0.0.1:{free_port()}}}\n" if receiver else ""
    account = (
        ", sia: {account: 'C0FFEE', key_file: panel.key, key_format: text,"
        " test_interval: 10s, grace: 1s}"
        if device_section
        else ""
    )
    path = tmp_path / "site.yaml"
    path.write_text(
        "site: {id: s, name: S, customer: {name: C}, contract: {type: annual}}\n"
        "uplink: {mqtt: {host: 127.0.0.1}}\n"
        f"agent: {{state_dir: {tmp_path / 'state'}}}\n" + section + "devices:\n"
        "  - {id: panel, kind: alarm_panel, profile: alarm-panel-sia, address: 192.0.2.9"
        + account
        + "}\n"
    )
    return path


async def send(config: LoadedConfig, *frames: bytes) -> bytes:
    section = config.site_file.model_dump()["sia"]["listen"]
    host, port = section.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    for data in frames:
        writer.write(data)
    await writer.drain()
    got = b""
    while got.count(b"\r") < len(frames):
        async with asyncio.timeout(2):
            got += await reader.read(4096)
    writer.close()
    return got


def values(result: PollResult) -> dict[str, Value]:
    return by_key(result.readings)


async def test_messages_become_readings_and_faults(tmp_path: Path) -> None:
    config = load_config(site(tmp_path))
    (config.site_file.agent.state_dir).mkdir()
    engine = RuleEngine(config)
    out: asyncio.Queue[PollResult] = asyncio.Queue()
    async with Drivers(config) as drivers:
        reader = drivers.reader(config.device("panel"))
        first = await reader.poll()
        assert values(first)["panel.mains_fail"] is False
        assert values(first)["panel.report_window"] == 11.0
        assert engine.evaluate(first) == []
        (source,) = drivers.push_sources()
        await source.start()
        running = asyncio.create_task(source.run(out, lambda device: None))
        try:
            frames = [
                pysia_frame("|Nri1/AT0]" + stamp(), "C0FFEE", "0001", key=KEY),
                pysia_frame("|1384 01 003]" + stamp(), "C0FFEE", "0002", "ADM-CID", key=KEY),
            ]
            replies = await send(config, *frames)
            assert replies.count(b'"*ACK"') == 2
            results = [await asyncio.wait_for(out.get(), 2) for _ in frames]
        finally:
            await stop_task(running)
            await source.close()
        assert values(results[0])["panel.mains_fail"] is True
        assert values(results[1])["zone.low_battery/3"] is True
        raised = {c.code: c.level for r in results for c in engine.evaluate(r)}
        assert raised == {"panel.mains_lost": 3, "zone.detector_battery_low": 3}
        latched = values(await reader.poll())
        assert (latched["panel.mains_fail"], latched["zone.low_battery/3"]) == (True, True)
        # Silence past the test interval plus grace: panel.comm_lost, level 1.
        last = results[1].ts
        assert not [c for c in engine.tick(last + timedelta(seconds=10.5)) if c.active]
        lost = engine.tick(last + timedelta(seconds=11.5))
        assert [(c.code, c.level, c.active) for c in lost] == [("panel.comm_lost", 1, True)]
    # A restart keeps what the panel reported.
    async with Drivers(load_config(site_path := tmp_path / "site.yaml")) as again:
        restarted = again.reader(load_config(site_path).device("panel"))
        assert values(await restarted.poll())["panel.mains_fail"] is True


async def test_the_next_message_clears_the_silence(tmp_path: Path) -> None:
    config = load_config(site(tmp_path))
    (config.site_file.agent.state_dir).mkdir()
    engine = RuleEngine(config)
    out: asyncio.Queue[PollResult] = asyncio.Queue()
    async with Drivers(config) as drivers:
        reader = drivers.reader(config.device("panel"))
        poll = await reader.poll()
        engine.evaluate(poll)
        lost = engine.tick(poll.ts + timedelta(seconds=12))
        assert [c.code for c in lost] == ["panel.comm_lost"]  # never heard of: silent
        (source,) = drivers.push_sources()
        await source.start()
        running = asyncio.create_task(source.run(out, lambda device: None))
        try:
            await send(config, pysia_frame("|]" + stamp(), "C0FFEE", "0003", "NULL", key=KEY))
            result = await asyncio.wait_for(out.get(), 2)
        finally:
            await stop_task(running)
            await source.close()
        # As if it came right after the silence was judged (the engine's clock is there).
        later = poll.ts + timedelta(seconds=12.5)
        moved = [r._replace(ts=later) for r in result.readings]
        cleared = engine.evaluate(replace(result, ts=later, readings=tuple(moved)))
        assert [(c.code, c.active) for c in cleared] == [("panel.comm_lost", False)]


@pytest.mark.parametrize(
    ("receiver", "device_section", "expected"),
    [
        (False, True, "the site file needs a sia: section"),
        (True, False, "speaks SIA DC-09: give a sia: section"),
    ],
)
def test_a_panel_needs_its_account_and_the_receiver(
    tmp_path: Path, receiver: bool, device_section: bool, expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(site(tmp_path, receiver, device_section))
    (problem,) = info.value.problems
    assert str(problem).startswith(f"{tmp_path / 'site.yaml'}:")
    assert expected in str(problem)
