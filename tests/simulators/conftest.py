"""Fixtures for the simulator tests: net-snmp's snmptrapd as the trap referee, a
simulated fleet served by `lvgw-sim run` in a subprocess, and thin wrappers around
the third-party clients (snmpget, snmpwalk, snmpbulkwalk, mbpoll).
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from simulators.control.client import ControlClient
from tests.readings import by_key
from tests.realservers import Server, wait_until, which

if TYPE_CHECKING:
    from gateway.model import Value
    from gateway.poller.result import PollResult

V3 = {"user": "simv3", "auth_key": "simauth-123", "priv_key": "simpriv-123"}
SILENCE = 0.5  # seconds without an answer that count as "does not answer"


def gateway_poll(site: Path, device: str) -> PollResult:
    """One poll of ``device`` by the gateway's reader."""
    from gateway.config import load_config
    from gateway.protocols.registry import Drivers

    async def poll() -> PollResult:
        config = load_config(site)
        async with Drivers(config) as drivers:
            return await drivers.reader(config.device(device)).poll()

    return asyncio.run(poll())


def gateway_readings(site: Path, device: str) -> dict[str, Value]:
    """One poll of ``device`` by the gateway's reader, as ``point[/instance]: value``."""
    result = gateway_poll(site, device)
    assert result.reachable, result.error
    return by_key(result.readings)


def free_port_on(address: str, kind: int = socket.SOCK_DGRAM) -> int:
    """A port free on this exact loopback address."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


class TrapReceiver(Server):
    """net-snmp's snmptrapd in the foreground, one line per trap in its log."""

    name = "snmptrapd"

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.host = "127.0.0.1"
        self.port = free_port_on(self.host)
        self.conf = workdir / "snmptrapd.conf"
        self.conf.write_text("disableAuthorization yes\n")

    def command(self) -> list[str]:
        return [
            which("snmptrapd"), "-f", "-Lo", "-C", "-c", str(self.conf), "-m", "",
            "-M", "/nonexistent", "-On", "-F", r"TRAP %b|%V~%v\n", f"udp:{self.host}:{self.port}",
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        return {**os.environ, "SNMP_PERSISTENT_DIR": str(self.workdir), "MIBS": ""}

    def ready(self) -> bool:
        return "NET-SNMP version" in self.log_path.read_text(errors="replace")

    def traps(self) -> list[str]:
        return [
            line for line in self.log_path.read_text(errors="replace").splitlines()
            if line.startswith("TRAP ")
        ]  # fmt: skip

    def mark(self) -> int:
        """How many traps arrived so far: pass it as ``after`` to wait for newer ones."""
        return len(self.traps())

    def wait_for(
        self, after: int, *needles: str, source: str | None = None, timeout: float = 5.0
    ) -> str:
        """The first trap line after the ``after``-th containing every needle (and sent
        from ``source``)."""
        found: list[str] = []

        def seen() -> bool:
            for line in self.traps()[after:]:
                if all(n in line for n in needles) and (
                    source is None or f"[{source}]:" in line.split("->")[0]
                ):
                    found.append(line)
                    return True
            return False

        wait_until(seen, timeout, f"trap with {needles}")
        return found[0]


class SimFleet(Server):
    """`lvgw-sim run` in a subprocess; ready when it prints its first line."""

    name = "lvgw-sim"

    def __init__(self, workdir: Path, fleet_yaml: str, extra: list[str] | None = None) -> None:
        super().__init__(workdir)
        self.fleet = workdir / "fleet.yaml"
        self.fleet.write_text(fleet_yaml)
        self.control_port = free_port_on("127.0.0.1", socket.SOCK_STREAM)
        self.control = f"127.0.0.1:{self.control_port}"
        self.extra = extra or []

    def command(self) -> list[str]:
        return [sys.executable, "-m", "simulators", "run", "--fleet", str(self.fleet),
                "--control", self.control, *self.extra]  # fmt: skip

    def ready(self) -> bool:
        text = self.log_path.read_text(errors="replace")
        return re.search(r"^lvgw-sim: control http://", text, re.MULTILINE) is not None

    @property
    def client(self) -> ControlClient:
        return ControlClient(self.control)

    @contextmanager
    def faulted(self, device: str, *faults: tuple[str, dict[str, str]]) -> Iterator[None]:
        """``device`` with each ``(fault, params)`` injected while the block runs, and
        every fault of it cleared after, whatever the block raised."""
        for fault, params in faults:
            self.client.inject(device, fault, params)
        try:
            yield
        finally:
            self.client.clear(device, None, {})


@contextmanager
def fleet_with_site(
    workdir: Path, fleet_yaml: str, timeout: float = 20
) -> Iterator[tuple[SimFleet, Path]]:
    """`lvgw-sim run` serving ``fleet_yaml`` from ``workdir``, with the gateway's site
    file for its devices written there (``--write-config``): the fleet and that file,
    once it answers (within ``timeout`` seconds)."""
    site = workdir / "site.yaml"
    sim = SimFleet(workdir, fleet_yaml, ["--write-config", str(site)])
    sim.start(timeout=timeout)
    try:
        yield sim, site
    finally:
        sim.stop()


def snmp(tool: str, target: str, *oids: str, v3: bool = False, community: str = "public",
         check: bool = True, timeout: float = 1.0) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run a net-snmp tool with numeric output (-On) and short timeouts."""
    auth = (
        ["-v3", "-l", "authPriv", "-u", V3["user"], "-a", "SHA", "-A", V3["auth_key"],
         "-x", "AES", "-X", V3["priv_key"]]
        if v3 else ["-v2c", "-c", community]
    )  # fmt: skip
    result = subprocess.run(
        [which(tool), "-On", "-m", "", "-M", "/nonexistent", "-t", str(timeout), "-r", "0", *auth,
         target, *oids],
        capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip
    if check:
        assert result.returncode == 0, f"{tool} {target} {oids}: {result.stderr}"
    return result


def values(output: str) -> dict[str, str]:
    """``.1.3.6... = TYPE: value`` lines -> {oid without leading dot: value text}."""
    out = {}
    for line in output.splitlines():
        name, sep, rest = line.partition(" = ")
        if sep and not rest.startswith("No more variables left"):  # end of the MIB view
            out[name.lstrip(".")] = rest.split(": ", 1)[1] if ": " in rest else rest
    return out


def get(target: str, *oids: str, v3: bool = False) -> dict[str, str]:
    return values(snmp("snmpget", target, *oids, v3=v3).stdout)


def walk(target: str, base: str, v3: bool = False, bulk: bool = False) -> dict[str, str]:
    """A walk; an empty subtree gives {} (net-snmp then GETs the base: "No Such ...")."""
    found = values(snmp("snmpbulkwalk" if bulk else "snmpwalk", target, base, v3=v3).stdout)
    return {name: value for name, value in found.items() if not value.startswith("No Such")}


def silent(target: str, oid: str = "1.3.6.1.2.1.1.3.0", v3: bool = False) -> bool:
    """The device does not answer at all (a timeout, not an error response)."""
    result = snmp("snmpget", target, oid, v3=v3, check=False, timeout=SILENCE)
    return result.returncode != 0 and "Timeout" in (result.stderr + result.stdout)


def ticks(value: str) -> int:
    """``(1234) 0:00:12.34`` -> 1234."""
    return int(value.split("(")[1].split(")")[0])


def mbpoll(
    host: str,
    port: int,
    unit: int,
    start: int,
    count: int | None,
    table: int | str = 4,
    write: tuple[int, ...] = (),
    flags: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """mbpoll once, 0-based addresses (-0), 1 s timeout; writes ``write`` if given."""
    size = ["-c", str(count)] if count is not None else []
    return subprocess.run(
        [which("mbpoll"), "-m", "tcp", "-p", str(port), "-a", str(unit), "-0", "-r", str(start),
         *size, "-t", str(table), "-1", "-o", "1", *flags, host, *map(str, write)],
        capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip


def registers(output: str) -> dict[int, int]:
    """mbpoll's ``[N]: value`` lines -> {address: value}."""
    found = re.findall(r"^\[(\d+)\]:\s+(-?\d+)", output, re.MULTILINE)
    return {int(address): int(value) for address, value in found}


# -- the shared fleet -------------------------------------------------------------------


class Addresses:
    """Where each device of the shared test fleet listens: some on their own loopback
    address, so that traps can be told apart by source."""

    HOSTS = {
        "sw-core": "127.0.0.1",
        "sw-acc": "127.0.0.2",
        "nvr": "127.0.0.3",
        "pbx": "127.0.0.4",
        "ups": "127.0.0.1",
        "ups-flat": "127.0.0.1",  # for tests that run its battery flat
        "panel": "127.0.0.1",
    }

    def __init__(self) -> None:
        self.ports = {
            device: free_port_on(
                host, socket.SOCK_STREAM if device == "panel" else socket.SOCK_DGRAM
            )
            for device, host in self.HOSTS.items()
        }

    def host(self, device: str) -> str:
        return self.HOSTS[device]

    def target(self, device: str) -> str:
        return f"{self.HOSTS[device]}:{self.ports[device]}"


def fleet_yaml(addr: Addresses, trap_receiver: str) -> str:
    def at(device: str) -> str:
        return f"address: {addr.host(device)}, port: {addr.ports[device]}"

    return f"""\
defaults:
  snmp:
    community: public
    v3: {{user: {V3["user"]}, auth_key: {V3["auth_key"]}, priv_key: {V3["priv_key"]}}}
  trap_receivers: [{trap_receiver}]
site:
  id: test-site
  name: Test site
devices:
  - {{id: sw-core, kind: switch, {at("sw-core")}, ports: 8, fans: 2, psus: 2, poe: false}}
  - {{id: sw-acc, kind: switch, model: cisco-c9200, {at("sw-acc")}, ports: 8,
      parent: sw-core, parent_port: 2}}
  - {{id: nvr, kind: nvr, {at("nvr")}, disks: 2, cameras: 4, camera_kbps: 16384,
      parent: sw-acc}}
  - {{id: pbx, kind: pbx, {at("pbx")}, trunks: 2, channels_per_trunk: 60, parent: sw-core}}
  - {{id: ups, kind: ups, {at("ups")}, parent: sw-core}}
  - {{id: ups-flat, kind: ups, {at("ups-flat")}, parent: sw-core}}
  - {{id: panel, kind: alarm_panel, {at("panel")}, zones: 4, modbus: {{unit: 3}},
      parent: sw-acc}}
"""


@pytest.fixture(scope="session")
def trapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrapReceiver]:
    receiver = TrapReceiver(tmp_path_factory.mktemp("snmptrapd"))
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture(scope="session")
def addresses() -> Addresses:
    return Addresses()


@pytest.fixture(scope="session")
def fleet(
    tmp_path_factory: pytest.TempPathFactory, trapd: TrapReceiver, addresses: Addresses
) -> Iterator[SimFleet]:
    sim = SimFleet(
        tmp_path_factory.mktemp("fleet"), fleet_yaml(addresses, f"{trapd.host}:{trapd.port}")
    )
    sim.start(timeout=20)
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def sim(fleet: SimFleet) -> Iterator[SimFleet]:
    """The shared fleet, with every fault cleared after the test."""
    yield fleet
    if fleet.running:
        for device in fleet.client.devices():
            if device["faults"]:
                fleet.client.clear(device["id"], None, {})
