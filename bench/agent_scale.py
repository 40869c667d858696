"""The whole agent, run as a user runs it: `lvgw run` against a simulated fleet.

For each fleet size (500, 1,000 and 2,000 devices by default, the mix of
``simulators/fleets/large.yaml``: switches, NVRs, PBXs, UPSes, alarm panels, 30 s
interval) it starts the simulators (one ``lvgw-sim run`` per 500 devices, each on its
own loopback range), a mosquitto broker, and ``lvgw run -c SITE`` on the site file
the simulators wrote (bench/agentscale/fleets.py), then reports:

- start-up: spawn to the first status snapshot, and to the first completed poll
  round (every device has a poll in the snapshot; the snapshot is rewritten every
  5 s, so this is to within 5 s, and the first polls are spread over the interval),
  and to the end of the proactive jobs' catch-up (each job runs once at a first
  start, the forecast reading every series' history; its log line); the window
  starts after both and after ``--warmup``, so it measures the steady state;
- values polled per second over the window (each device's polls, seen as new
  ``last_poll`` times in the status snapshot, times the values one poll of that
  device returns, counted once with the gateway's own reader);
- the gateway's CPU per polled value (utime + stime from /proc/PID/stat over the
  window, after the warm-up) and its share of one core; the fleet's share (the
  processes serving the devices, the same way), so a starved fleet shows;
- RSS (VmRSS) after the agent has run ``--rss-after`` seconds (default 10 minutes);
- where the CPU goes: a py-spy profile of the running agent (``--profile`` seconds,
  after the window), summarised as the functions with the most samples.

``--fleet snmpd`` serves the devices with net-snmp's C agent instead, where the
simulators would be the bottleneck (from about 2,000 devices on two cores the four
of them need most of a core and answers come late): every device is a small switch
read with ``config/profiles/switch-generic.yaml`` that returns 147 values per poll,
the mix's average, one ``snmpd`` per 100 devices, each device on its own loopback
address (bench/agentscale/snmpdfleet.py says what it serves). The device count and
the values per second are the mix's; what differs is that every device is an SNMP
switch (no Modbus, HTTP or AMI polls, only the switch's rules), so compare CPU per
value with the mix's, not just the share of a core. Such a fleet needs about 0.3 %
of a core per 100 devices.

Usage: .venv/bin/python bench/agent_scale.py [--devices 500,1000,2000] [--warmup S]
[--window S] [--profile S] [--rss-after S] [--fleet sim|snmpd] [--quick]
(--quick: 500 devices, 30 s warm-up, 60 s window, 20 s profile, RSS at 2 minutes.)
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.agentscale import fleets  # noqa: E402
from gateway.config.load import load_config  # noqa: E402
from gateway.demo.processes import Mosquitto, free_port  # noqa: E402
from gateway.proactive.state import ProactiveState, StateFile  # noqa: E402
from gateway.protocols.registry import Drivers  # noqa: E402

SNAPSHOT_POLL = 2.0  # seconds between two reads of status.json
CAUGHT_UP = "proactive jobs caught up"  # the agent's log line when the start-up jobs ran


@dataclass
class Run:
    devices: int
    started: float = 0.0
    ready: float | None = None  # spawn -> first status snapshot
    first_round: float | None = None  # spawn -> every device polled once
    caught_up: float | None = None  # spawn -> the proactive jobs' catch-up done
    per_poll: float = 0.0  # values one poll returns, on average over the devices
    polls: int = 0
    values: int = 0
    window: float = 0.0
    cpu: float = 0.0
    fleet_cpu: float = 0.0
    failed_polls: int = 0
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    rss_mib: float = 0.0
    rss_at: float = 0.0
    load: str = ""
    profile: list[tuple[float, float, str]] = field(default_factory=list)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else 0.0


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_model() -> str:
    out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"^Model name:\s+(.+)$", out, re.MULTILINE)
    cores = re.search(r"^CPU\(s\):\s+(\d+)$", out, re.MULTILINE)
    return f"{match.group(1) if match else '?'}, {cores.group(1) if cores else '?'} CPUs"


async def values_per_poll(site_path: Path) -> dict[str, int]:
    """Values one poll returns, per device, counted with the gateway's own readers on
    one device of each group (the fleet's repeated devices are alike); the second poll
    of each, so rates have their previous value."""
    config = load_config(site_path)
    drivers = Drivers(config)
    groups: dict[str, list[str]] = collections.defaultdict(list)
    for device in config.devices:
        groups[re.sub(r"-\d+$", "", device.id.split("-", 1)[1])].append(device.id)
    out: dict[str, int] = {}
    try:
        for members in groups.values():
            reader = drivers.reader(config.device(members[0]))
            await reader.poll()
            await asyncio.sleep(1.0)
            result = await reader.poll()
            if not result.reachable:
                raise RuntimeError(f"{members[0]} did not answer the count poll: {result.error}")
            for device_id in members:
                out[device_id] = len(result.readings)
    finally:
        await drivers.close()
    return out


def read_snapshot(state_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((state_dir / "status.json").read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def profile_summary(raw: Path, top: int = 18) -> list[tuple[float, float, str]]:
    """py-spy's collapsed stacks -> (inclusive %, self %, function) by inclusive share."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        for name in set(frames):
            inclusive[name] += count
        own[frames[-1]] += count
    if not total:
        return []
    rows = [(n * 100 / total, own[name] * 100 / total, name) for name, n in inclusive.items()]
    rows = [r for r in rows if "gateway/" in r[2] or "drivers/" in r[2] or r[1] >= 3]
    return sorted(rows, reverse=True)[:top]


async def measure(devices: int, args: argparse.Namespace) -> Run:
    run = Run(devices)
    with tempfile.TemporaryDirectory(prefix="lvgw-agent-scale-") as tmp:
        workdir = Path(tmp)
        broker = Mosquitto(workdir / "broker")
        broker.start()
        try:
            with fleets.fleet(args.fleet, workdir, devices) as (fleet_pids, site_path):
                site = yaml.safe_load(site_path.read_text())
                state = workdir / "state"
                site["uplink"]["mqtt"]["port"] = broker.port
                site["agent"] = {
                    "state_dir": str(state),
                    "status_listen": f"127.0.0.1:{free_port()}",
                }
                site_path.write_text(yaml.safe_dump(site, sort_keys=False))
                per_poll = await values_per_poll(site_path)
                run.per_poll = sum(per_poll.values()) / len(per_poll)
                if args.forecast_ran:
                    await mark_forecast_ran(state)
                await run_agent(run, site_path, state, per_poll, fleet_pids, args)
        finally:
            broker.stop()
    return run


async def mark_forecast_ran(state_dir: Path) -> None:
    """The proactive state of an agent that ran its hourly forecast just now (as after
    a restart within the hour): no forecast at start, the next on the hour."""
    await asyncio.to_thread(state_dir.mkdir, parents=True, exist_ok=True)
    async with StateFile(state_dir) as state_file:
        await state_file.save(ProactiveState(last_run={"forecast": datetime.now(UTC)}))


async def run_agent(
    run: Run,
    site_path: Path,
    state: Path,
    per_poll: dict[str, int],
    fleet_pids: list[int],
    args: argparse.Namespace,
) -> None:
    log = open(state.parent / "agent.log", "w")  # noqa: SIM115 - closed below
    run.started = time.monotonic()
    agent = subprocess.Popen(
        [str(Path(sys.executable).parent / "lvgw"), "run", "-c", str(site_path)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        await startup(run, agent, state)
        await asyncio.sleep(max(0.0, run.started + args.warmup - time.monotonic()))
        await window(run, agent, state, per_poll, fleet_pids, args.window)
        if args.profile and shutil.which("py-spy", path=Path(sys.executable).parent):
            run.profile = await profile(agent.pid, state.parent / "profile.txt", args.profile)
        await asyncio.sleep(max(0.0, run.started + args.rss_after - time.monotonic()))
        run.rss_mib, run.rss_at = rss_mib(agent.pid), time.monotonic() - run.started
        if agent.poll() is not None:
            raise RuntimeError(f"lvgw run exited with {agent.returncode}")
    finally:
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(30)
        except subprocess.TimeoutExpired:
            agent.kill()
        log.close()
        errors = [
            line for line in (state.parent / "agent.log").read_text().splitlines()
            if " ERROR " in line or "Traceback" in line
        ]  # fmt: skip
        for line in errors[:5]:
            print(f"  agent: {line}")


async def startup(run: Run, agent: subprocess.Popen[bytes], state: Path) -> None:
    """Until every device was polled once and the proactive jobs' catch-up at start
    (every job runs once when it never ran, the forecast reading every series'
    history) is done: the window measures the steady state, not the start."""
    deadline = run.started + 300
    agent_log = state.parent / "agent.log"
    while time.monotonic() < deadline:
        if agent.poll() is not None:
            raise RuntimeError(f"lvgw run exited with {agent.returncode}")
        snap = read_snapshot(state)
        now = time.monotonic() - run.started
        if snap is not None:
            run.ready = run.ready or now
            if run.first_round is None and all(d.get("last_poll") for d in snap["devices"]):
                run.first_round = now
        if run.caught_up is None and CAUGHT_UP in agent_log.read_text(errors="replace"):
            run.caught_up = now
        if run.first_round is not None and run.caught_up is not None:
            return
        await asyncio.sleep(0.5)
    print(f"  ({run.devices} devices: start-up not over within 300 s; measuring on)")


async def window(
    run: Run,
    agent: subprocess.Popen[bytes],
    state: Path,
    per_poll: dict[str, int],
    fleet_pids: list[int],
    seconds: float,
) -> None:
    """Count polls (new last_poll times per device) and CPU over ``seconds``."""
    seen: dict[str, str | None] = {}
    first = read_snapshot(state)
    assert first is not None
    for device in first["devices"]:
        seen[device["id"]] = device.get("last_poll")
    start, cpu0 = time.monotonic(), cpu_seconds(agent.pid)
    fleet0 = sum(cpu_seconds(pid) for pid in fleet_pids)
    loads = [load_average()]
    while time.monotonic() - start < seconds:
        await asyncio.sleep(SNAPSHOT_POLL)
        snap = read_snapshot(state)
        for device in snap["devices"] if snap else ():
            last = device.get("last_poll")
            if last and last != seen.get(device["id"]):
                seen[device["id"]] = last
                run.polls += 1
                if device.get("reachable"):
                    run.values += per_poll.get(device["id"], 0)
                else:
                    run.failed_polls += 1
                    kind = re.sub(r"-\d+$", "", device["id"].split("-", 1)[1])
                    run.errors[f"{kind}: {device.get('error')}"] += 1
    run.window = time.monotonic() - start
    run.cpu = cpu_seconds(agent.pid) - cpu0
    run.fleet_cpu = sum(cpu_seconds(pid) for pid in fleet_pids) - fleet0
    loads.append(load_average())
    run.load = " -> ".join(loads)


async def profile(pid: int, out: Path, seconds: float) -> list[tuple[float, float, str]]:
    spy = str(Path(sys.executable).parent / "py-spy")
    proc = await asyncio.create_subprocess_exec(
        spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "100",
        "--format", "raw", "--output", str(out), "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await proc.wait()
    return profile_summary(out) if proc.returncode == 0 else []


def report(run: Run, args: argparse.Namespace) -> None:
    per_second = run.values / run.window if run.window else 0.0
    us = run.cpu / run.values * 1e6 if run.values else float("nan")
    print(f"\n{run.devices} devices (load average {run.load})")
    first_round = f"{run.first_round:.1f} s" if run.first_round else "none within 300 s"
    caught_up = f"{run.caught_up:.1f} s" if run.caught_up else "not within 300 s"
    print(f"  start-up: first snapshot {run.ready or 0:.1f} s, first complete poll round "
          f"{first_round}, proactive jobs' catch-up done {caught_up}")  # fmt: skip
    due = run.devices * run.per_poll / 30
    print(f"  polled: {run.polls} polls ({run.failed_polls} failed), {run.values} values in "
          f"{run.window:.0f} s = {per_second:.0f} values/s ({run.per_poll:.0f} per poll; "
          f"{due:.0f}/s due at 30 s)")  # fmt: skip
    for error, count in run.errors.most_common(4):
        print(f"    failed: {count} x {error}")
    print(f"  gateway CPU: {run.cpu:.2f} s = {us:.1f} us per polled value, "
          f"{run.cpu / run.window * 100:.1f} % of one core")  # fmt: skip
    print(f"  fleet CPU: {run.fleet_cpu / run.window * 100:.1f} % of one core")
    print(f"  RSS after {run.rss_at:.0f} s: {run.rss_mib:.1f} MiB")
    if run.profile:
        print(f"  profile ({args.profile:.0f} s of py-spy; inclusive %, self %):")
        for inclusive, own, name in run.profile:
            print(f"    {inclusive:5.1f} {own:5.1f}  {name}")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", default="500,1000,2000", help="fleet sizes, comma separated")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before the window")
    parser.add_argument("--window", type=float, default=120.0, help="seconds of CPU measurement")
    parser.add_argument("--profile", type=float, default=60.0, help="seconds of py-spy (0: none)")
    parser.add_argument("--rss-after", type=float, default=600.0, help="seconds run before RSS")
    parser.add_argument("--fleet", choices=fleets.KINDS, default="sim", help="who serves devices")
    parser.add_argument(
        "--forecast-ran",
        action="store_true",
        help="start as if the hourly forecast ran just now (none at start)",
    )
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # the count polls' reader
    if args.quick:
        args.devices, args.warmup, args.window, args.profile, args.rss_after = (
            "500",
            30.0,
            60.0,
            20.0,
            120.0,
        )
    sizes = [int(n) for n in args.devices.split(",")]
    print(f"machine: {cpu_model()}; Python {platform.python_version()}; load {load_average()}")
    print(f"fleet: {fleets.describe(args.fleet)}; "
          f"warm-up {args.warmup:.0f} s, window {args.window:.0f} s, "
          f"RSS at {args.rss_after:.0f} s"
          f"{'; forecast marked as run at start' if args.forecast_ran else ''}")  # fmt: skip
    for size in sizes:
        report(await measure(size, args), args)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
