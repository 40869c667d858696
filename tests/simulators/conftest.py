"""Fixtures for the simulator tests: net-snmp's snmptrapd as the trap referee, a
simulated fleet served by `lvgw-sim run` in a subprocess, and thin wrappers around
the third-party clients (snmpget, snmpwalk, snmpbulkwalk, mbpoll).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulators.control.client import ControlClient
from tests.realservers import Server, wait_until, which

V3 = {"user": "simv3", "auth_key": "simauth-123", "priv_key": "simpriv-123"}
TOOL_TIMEOUT = ["-t", "1", "-r", "0"]


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

    def wait_for(self, *needles: str, source: str | None = None, timeout: float = 5.0) -> str:
        """The first trap line containing every needle (and sent from ``source``)."""
        found: list[str] = []

        def seen() -> bool:
            for line in self.traps():
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


def snmp(tool: str, target: str, *oids: str, v3: bool = False, community: str = "public",
         check: bool = True) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run a net-snmp tool with numeric output (-On) and short timeouts."""
    auth = (
        ["-v3", "-l", "authPriv", "-u", V3["user"], "-a", "SHA", "-A", V3["auth_key"],
         "-x", "AES", "-X", V3["priv_key"]]
        if v3 else ["-v2c", "-c", community]
    )  # fmt: skip
    result = subprocess.run(
        [which(tool), "-On", "-m", "", "-M", "/nonexistent", *TOOL_TIMEOUT, *auth, target, *oids],
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
    return values(snmp("snmpbulkwalk" if bulk else "snmpwalk", target, base, v3=v3).stdout)


def silent(target: str, oid: str = "1.3.6.1.2.1.1.3.0") -> bool:
    """The device does not answer at all (a timeout, not an error response)."""
    result = snmp("snmpget", target, oid, check=False)
    return result.returncode != 0 and "Timeout" in (result.stderr + result.stdout)


# -- the shared fleet -------------------------------------------------------------------


class Addresses:
    """Where each device of the shared test fleet listens."""

    def __init__(self) -> None:
        self.core = "127.0.0.1"
        self.access = "127.0.0.2"  # a second loopback address: traps must come from it
        self.ports = {
            "sw-core": free_port_on(self.core),
            "sw-acc": free_port_on(self.access),
        }

    def target(self, device: str) -> str:
        address = self.access if device == "sw-acc" else self.core
        return f"{address}:{self.ports[device]}"


def fleet_yaml(addr: Addresses, trap_receiver: str) -> str:
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
  - {{id: sw-core, kind: switch, address: {addr.core}, port: {addr.ports["sw-core"]},
      ports: 8, fans: 2, psus: 2, poe: false}}
  - {{id: sw-acc, kind: switch, model: cisco-c9200, address: {addr.access},
      port: {addr.ports["sw-acc"]}, ports: 8, parent: sw-core, parent_port: 2}}
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
