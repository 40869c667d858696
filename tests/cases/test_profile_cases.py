"""Golden cases of the shipped profiles: every point read from the simulators and
decoded to the expected readings, device by device, fault by fault.

Each ``tests/cases/profiles/<case>/case.yaml`` names a device of the case fleet, the
fault to inject (or none: the baseline), and the readings expected after it, as
``point[/instance]: value`` (``<absent>`` for an object the agent has none of: the
software behind it stopped). Values that move on their own (uptimes, counters, free
space, voltages while on battery...) are written as a type, ``<int>`` or ``<float>``:
the point must still be read, decoded and of that type. ``checks`` add comparisons
for moving values a fault is about (``[point, ">", 0]``; ``now-3600`` is the Unix time
an hour ago). A rate is measured between two polls: ``polls: 2`` with ``settle: {counter:
POINT, moved: N}`` waits, between the polls, until the device's counter grew by N (it
never trusts two polls to be far enough apart for a slow counter to have moved).

A DC-09 panel (``alarm-panel-sia``) is never asked: for its cases the runner restarts
the panel and injects the fault while nothing listens (what it had not sent is lost
with its power; it then reports its power-up, what it finds and a test report), then
starts the gateway's receiver on a fresh state, waits until the panel has nothing left
to send and every message was taken, and reads the panel's latched state.

Regenerate after a deliberate change with ``LVGW_REGENERATE=1 pytest
tests/cases/test_profile_cases.py`` and review the diff.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from drivers.tasks import stop_task
from gateway.config import load_config
from gateway.config.load import LoadedConfig
from gateway.demo.processes import free_port
from gateway.model import Quality, Reading
from gateway.poller.result import PollResult
from gateway.poller.schedule import PointReader
from gateway.protocols.registry import Drivers
from tests.readings import by_key
from tests.simulators.conftest import SimFleet, fleet_with_site, free_port_on

CASES = Path(__file__).parent / "profiles"
REGENERATE = os.environ.get("LVGW_REGENERATE") == "1"
# Points whose value moves by itself: only their presence and type are golden.
MOVING = (
    "rtt", "sys.uptime", "pbx.uptime", "pbx.reload_time", "panel.uptime", "if.in_octets",
    "if.out_octets", "if.in_errors", "if.out_errors", "disk.free", "nvr.memory_usage",
    "pbx.active_calls", "pbx.channels", "pbx.calls_processed", "trunk.calls",
    "camera.bitrate", "ups.charge", "ups.battery_voltage", "ups.minutes_remaining",
    "ups.seconds_on_battery", "panel.battery_voltage", "sensor.value", "output.load", "sys.date",
    "nvr.memory_used", "ups.time_on_battery", "ups.output_load", "entity.temperature",
    "temperature.value",
    "raid.free", "pbx.sessions", "pbx.sessions_total", "pbx.sessions_per_second",
)  # fmt: skip

HOSTS = {
    "sw-core": "127.0.0.1",
    "nvr": "127.0.0.3",
    "pbx": "127.0.0.4",
    "ups": "127.0.0.1",
    "ups-apc": "127.0.0.1",
    "sw-huawei": "127.0.0.1",
    "sw-cisco": "127.0.0.1",
    "sw-h3c": "127.0.0.1",
    "nvr-synology": "127.0.0.1",
    "pbx-freeswitch": "127.0.0.1",
    "pbx-freeswitch-full": "127.0.0.1",
    "nvr-isapi": "127.0.0.5",
    "pbx-ami": "127.0.0.6",
    "pbx-sip": "127.0.0.7",
    "nvr-dahua": "127.0.0.13",
}


def cases() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if (p / "case.yaml").is_file())


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimFleet, LoadedConfig]]:
    workdir = tmp_path_factory.mktemp("case-fleet")
    ports = {d: free_port_on(h) for d, h in HOSTS.items()}
    ports["panel"] = free_port_on("127.0.0.1", socket.SOCK_STREAM)
    ports["nvr-isapi-http"] = free_port_on("127.0.0.5", socket.SOCK_STREAM)
    ports["pbx-ami-tcp"] = free_port_on("127.0.0.6", socket.SOCK_STREAM)
    ports["pbx-sip-tcp"] = free_port_on("127.0.0.7", socket.SOCK_STREAM)
    ports["nvr-dahua-http"] = free_port_on("127.0.0.13", socket.SOCK_STREAM)
    text = (CASES / "fleet.yaml").read_text()
    for device, port in ports.items():
        text = text.replace("{" + device + "}", str(port))
    ports["panel-sia-receiver"] = free_port()  # the gateway's: TCP and UDP free
    text = text.replace("{panel-sia-receiver}", str(ports["panel-sia-receiver"]))
    with fleet_with_site(workdir, text, timeout=10) as (sim, site):
        doc = yaml.safe_load(site.read_text())
        doc["agent"] = {"state_dir": str(workdir / "state")}  # the DC-09 panels' state
        site.write_text(yaml.safe_dump(doc, sort_keys=False))
        yield sim, load_config(site)


def moving(point: str) -> bool:
    return point in MOVING or point.endswith(".rate")


def observed(readings: tuple[Reading, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in readings:
        key = f"{r.point}/{r.instance}" if r.instance else r.point
        value = r.value
        if r.quality is not Quality.GOOD:  # not measured: why (``<absent>``: noSuchObject)
            value = f"<{r.quality.value}>"
        elif moving(r.point) and isinstance(value, int | float) and not isinstance(value, bool):
            value = "<float>" if isinstance(value, float) else "<int>"
        out[key] = value
    return out


SETTLE_TIMEOUT = 30.0  # seconds a counter gets to move by the amount a case asks


async def poll(
    config: LoadedConfig, device_id: str, times: int, settle: dict[str, Any] | None = None
) -> PollResult:
    """Poll ``times`` with one reader (rates need two samples); the last result.

    With ``settle``, each poll after the first waits until the counter it names moved by
    ``moved`` since the previous poll, as seen by a second reader (so the first
    reader's rate spans that interval): a rate over two back-to-back polls of a
    counter that moves 50 times a second is mostly 0.
    """
    device = config.device(device_id)
    async with Drivers(config) as drivers:
        measuring, watching = drivers.reader(device), drivers.reader(device)
        result = await measuring.poll()
        for _ in range(times - 1):
            if settle:
                await counter_moved(watching, result, settle["counter"], settle["moved"])
            result = await measuring.poll()
        return result


async def counter_moved(watching: PointReader, since: PollResult, counter: str, moved: int) -> None:
    """Poll with ``watching`` until ``counter`` is ``moved`` above its value in ``since``."""
    start = counter_value(since, counter)
    deadline = time.monotonic() + SETTLE_TIMEOUT
    value = start
    while value < start + moved:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{counter} moved from {start} to {value} in {SETTLE_TIMEOUT:.0f} s, "
                f"not by {moved}: is the fault injected?"
            )
        await asyncio.sleep(0.05)
        value = counter_value(await watching.poll(), counter)


def counter_value(result: PollResult, counter: str) -> int:
    for r in result.readings:
        if (f"{r.point}/{r.instance}" if r.instance else r.point) == counter:
            assert isinstance(r.value, int), (counter, r.value)
            return r.value
    raise AssertionError(f"{counter} not read: {result.error or 'no such point'}")


async def heard(sim: SimFleet, config: LoadedConfig, device_id: str, inject: Any) -> PollResult:
    """A DC-09 panel's latched state after it restarted with ``inject``'s fault (see
    the module's docstring)."""
    panel = config.device(device_id)
    await asyncio.to_thread(sim.client.inject, device_id, "restart", {})
    if inject:
        params = {k: str(v) for k, v in inject.get("set", {}).items()}
        await asyncio.to_thread(sim.client.inject, device_id, inject["fault"], params)
    state_dir = config.site_file.agent.state_dir
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "sia.json").unlink(missing_ok=True)  # nothing heard of it yet
    async with Drivers(config) as drivers:
        reader = drivers.reader(panel)
        (source,) = [s for s in drivers.push_sources() if s.name == "sia"]
        results: asyncio.Queue[PollResult] = asyncio.Queue()
        await source.start()
        running = asyncio.create_task(source.run(results, lambda device: None))
        try:
            await sent_and_taken(sim, device_id, source)
            return await reader.poll()
        finally:
            await stop_task(running)
            await source.close()


async def sent_and_taken(sim: SimFleet, device_id: str, source: Any) -> None:
    """Until the panel has nothing left to send and the receiver nothing left to hand
    on (its power-up report is three messages at least: RR, CL or OP, RP)."""
    async with asyncio.timeout(SETTLE_TIMEOUT):
        while True:
            devices = await asyncio.to_thread(sim.client.devices)
            sia = next(d for d in devices if d["id"] == device_id)["sia"]
            if sia["pending"] == 0 and source.receiver.pending() == 0:
                return
            await asyncio.sleep(0.05)


def reference(value: Any) -> Any:
    """A check's right-hand side: a number, or ``now-N`` / ``now+N`` (Unix seconds)."""
    if isinstance(value, str) and value.startswith("now"):
        return time.time() + float(value[3:] or 0)
    return value


def compare(op: str, left: Any, right: Any) -> bool:
    return bool({">": left > right, "<": left < right, ">=": left >= right,
                 "<=": left <= right, "==": left == right}[op])  # fmt: skip


@pytest.mark.integration
@pytest.mark.parametrize("case_dir", cases(), ids=lambda p: p.name)
async def test_profile_case(case_dir: Path, fleet: tuple[SimFleet, LoadedConfig]) -> None:
    sim, config = fleet
    case = yaml.safe_load((case_dir / "case.yaml").read_text())
    device = case["device"]
    inject = case.get("inject")
    sim.client.clear(device, None, {})
    sia = config.profile_of(config.device(device)).protocol == "sia"
    if inject and not sia:
        params = {k: str(v) for k, v in inject.get("set", {}).items()}
        sim.client.inject(device, inject["fault"], params)
    try:
        if sia:
            result = await heard(sim, config, device, inject)
        else:
            result = await poll(config, device, case.get("polls", 1), case.get("settle"))
    finally:
        sim.client.clear(device, None, {})
    if case.get("unreachable"):
        assert not result.reachable
        assert [r.point for r in result.readings] == ["reachable"]
        return
    assert result.reachable, result.error
    got = observed(result.readings)
    if REGENERATE:
        case["readings"] = dict(sorted(got.items()))
        (case_dir / "case.yaml").write_text(
            yaml.safe_dump(case, sort_keys=False, allow_unicode=True)
        )
        return
    expected = case["readings"]
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    wrong = {k: (expected[k], got[k]) for k in expected if k in got and expected[k] != got[k]}
    assert not (missing or extra or wrong), f"missing {missing}\nextra {extra}\nwrong {wrong}"
    values = by_key(result.readings)
    for point, op, value in case.get("checks", []):
        assert compare(op, values[point], reference(value)), (point, op, value, values[point])


def test_every_profile_point_is_covered_by_a_baseline_case() -> None:
    """Every reading name a shipped profile can produce appears in some baseline case."""
    seen: set[str] = set()
    for case_dir in cases():
        case = yaml.safe_load((case_dir / "case.yaml").read_text())
        seen.update(key.split("/")[0] for key in case.get("readings", {}))
    site = load_config_for_profiles()
    for profile in site.profiles.values():
        names = {n for n in profile.point_names() if not n.startswith("trap.")}
        assert names - seen == set(), (profile.id, sorted(names - seen))


def load_config_for_profiles() -> LoadedConfig:
    path = CASES / "all-profiles.site.yaml"
    return load_config(path)
