"""The fleets bench/agent_scale.py polls, each started in a work directory and
yielding the process ids that serve it (their CPU is the fleet's) and the site file
``lvgw run`` reads.

- ``sim``: the large fleet's mix (``simulators/fleets/large.yaml``), one ``lvgw-sim
  run`` per ``SHARD`` devices, each on its own loopback range, their written site
  files merged;
- ``snmpd``: switches served by net-snmp's snmpd (bench/agentscale/snmpdfleet.py).
"""

from __future__ import annotations

import contextlib
import random
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from bench.agentscale.snmpdfleet import DEVICES_PER_AGENT, SnmpdFleet
from bench.children import stop_all

ROOT = Path(__file__).resolve().parent.parent.parent
FLEET = ROOT / "simulators/fleets/large.yaml"
SHARD = 500  # devices per simulator process (one lvgw-sim serves large.yaml in ~30 % of a core)
KINDS = ("sim", "snmpd")


def describe(kind: str) -> str:
    if kind == "snmpd":
        return f"switch-generic switches on net-snmp snmpd, {DEVICES_PER_AGENT} devices per snmpd"
    return f"the mix of {FLEET.relative_to(ROOT)}, one lvgw-sim per {SHARD} devices"


@contextlib.contextmanager
def fleet(kind: str, workdir: Path, devices: int) -> Iterator[tuple[list[int], Path]]:
    with snmpd(workdir, devices) if kind == "snmpd" else simulators(workdir, devices) as out:
        yield out


@contextlib.contextmanager
def snmpd(workdir: Path, devices: int) -> Iterator[tuple[list[int], Path]]:
    switches = SnmpdFleet(workdir / "fleet", devices).start()
    try:
        site = {
            "site": {
                "id": f"bench-snmpd-{devices}",
                "name": "Switches on net-snmp",
                "customer": {"name": "Benchmark"},
                "contract": {"type": "annual", "ends": "2099-12-31"},
                "zone": "urban",
            },
            "uplink": {"mqtt": {"host": "127.0.0.1", "port": 1883}},
            "devices": switches.site_devices(),
        }
        site_path = workdir / "site.yaml"
        site_path.write_text(yaml.safe_dump(site, sort_keys=False))
        yield switches.pids, site_path
    finally:
        switches.stop()


def shard_fleet(path: Path, shard: int, base_octet: int) -> str:
    """large.yaml moved to its own loopback range, its ids prefixed by the shard."""
    text = FLEET.read_text()
    text = text.replace("127.77.", f"127.{base_octet + shard}.")
    text = re.sub(r"control: \S+", "control: 127.0.0.1:0", text)
    text = re.sub(r"\{id: (\w+)", rf"{{id: k{shard}-\1", text)
    path.write_text(text)
    return text


@contextlib.contextmanager
def simulators(workdir: Path, devices: int) -> Iterator[tuple[list[int], Path]]:
    """Start ceil(devices / SHARD) simulators; yield their pids and the merged site file."""
    shards = -(-devices // SHARD)
    base = random.randrange(100, 250 - shards)  # apart from other runs on the machine
    procs: list[subprocess.Popen[str]] = []
    errors = open(workdir / "simulators.log", "w")  # noqa: SIM115 - closed below
    sites: list[dict[str, Any]] = []
    try:
        for shard in range(shards):
            shard_file = workdir / f"fleet-{shard}.yaml"
            shard_fleet(shard_file, shard, base)
            site_file = workdir / f"site-{shard}.yaml"
            proc = subprocess.Popen(
                [sys.executable, "-m", "simulators", "run", "--fleet", str(shard_file),
                 "--write-config", str(site_file), "--log-level", "WARNING"],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True,
            )  # fmt: skip
            procs.append(proc)
            assert proc.stdout is not None
            first = proc.stdout.readline()
            if not first.startswith("lvgw-sim: control"):
                raise RuntimeError(f"lvgw-sim did not start: {first!r}")
            threading_drain(proc)
            sites.append(yaml.safe_load(site_file.read_text()))
        merged = sites[0]
        merged["devices"] = [d for site in sites for d in site["devices"]][:devices]
        site_path = workdir / "site.yaml"
        site_path.write_text(yaml.safe_dump(merged, sort_keys=False))
        yield [proc.pid for proc in procs], site_path
    finally:
        stop_all(procs)
        errors.close()


def threading_drain(proc: subprocess.Popen[str]) -> None:
    """Read a child's stdout to the end in a thread, so it never blocks on a full pipe."""

    def drain() -> None:
        assert proc.stdout is not None
        for _line in proc.stdout:
            pass

    threading.Thread(target=drain, daemon=True).start()
