"""`lvgw discover` over a simulated site on its own loopback range, with a real
net-snmp agent and two addresses that answer garbage in the range, and a switch
outside it: every SNMP device is found with the fleet's kind, profile and parent, the
others are listed and nothing is sent outside the range."""

from __future__ import annotations

import asyncio
import random
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from drivers.snmp import SnmpDriver, SnmpTarget, VarBind
from drivers.snmp.lean import LeanSnmpClient
from drivers.snmp.pacing import Pacer
from gateway.config.load import BUILTIN_PROFILES
from gateway.demo.processes import Snmpd
from gateway.discover.classify import answer_oids
from gateway.discover.command import _run
from gateway.discover.probe import Asking, Credential
from gateway.discover.profiles import shipped_profiles
from gateway.discover.run import Plan
from gateway.discover.scope import Scope, parse_networks
from tests.simulators.conftest import SimFleet

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Site:
    net: str  # 127.A.B (a /27 from .0)
    port: int
    sim: SimFleet
    expected: dict[str, dict[str, Any]]  # the fleet's site file, devices by id
    snmpd: str  # the real agent's address
    isapi_port: int
    password_file: Path
    ami_port: int
    secret_file: Path


def _free_everywhere(addresses: list[str]) -> int:
    """A port free for UDP and TCP on every address given."""
    for _ in range(100):
        port = random.randint(20000, 60000)
        try:
            for address in addresses:
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    with socket.socket(socket.AF_INET, kind) as s:
                        s.bind((address, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no port free on every address")


FLEET = """\
defaults:
  port: {port}
  snmp:
    community: public
    v3: {{user: discv3, auth_key: {auth_key}, priv_key: {priv_key}}}
site: {{id: disc-site, name: Discovery test site}}
devices:
  - {{id: sw-core, kind: switch, model: huawei-s5735, address: {net}.1, role: core, ports: 12,
      poe: false}}
  - {{id: sw-floor1, kind: switch, model: cisco-c9200, address: {net}.2, parent: sw-core,
      ports: 8}}
  - {{id: sw-floor2, kind: switch, address: {net}.3, parent: sw-core, ports: 8}}
  - {{id: sw-floor3, kind: switch, model: h3c-s5500, address: {net}.5, parent: sw-core,
      ports: 8}}
  - {{id: sw-lab, kind: switch, address: {net}.4, parent: sw-floor2, ports: 8}}
  - {{id: sw-remote, kind: switch, address: {net}.40, parent: sw-core, ports: 8}}
  - {{id: nvr-1, kind: nvr, address: {net}.10, parent: sw-floor1, disks: 2, cameras: 4,
      isapi: {{port: {isapi_port}, user: lvgw, password: {isapi_password}}}}}
  - {{id: nvr-2, kind: nvr, address: {net}.15, parent: sw-lab, disks: 2, cameras: 4}}
  - {{id: pbx-1, kind: pbx, address: {net}.11, parent: sw-core, trunks: 2,
      ami: {{port: {ami_port}, username: lvgw, secret: {ami_secret}}}}}
  - {{id: pbx-2, kind: pbx, address: {net}.16, parent: sw-floor1, trunks: 2}}
  - {{id: nvr-3, kind: nvr, model: synology-dva, address: {net}.17, parent: sw-floor2, disks: 2,
      cameras: 4}}
  - {{id: pbx-3, kind: pbx, model: freeswitch, address: {net}.18, parent: sw-lab, trunks: 2}}
  - {{id: ups-1, kind: ups, model: apc-smart-ups, address: {net}.12, parent: sw-core}}
  - {{id: ups-lab, kind: ups, address: {net}.13, parent: sw-lab}}
  - {{id: panel-1, kind: alarm_panel, address: {net}.14, parent: sw-floor2, zones: 4}}
"""
IN_RANGE = ["sw-core", "sw-floor1", "sw-floor2", "sw-floor3", "sw-lab", "nvr-1", "nvr-2",
            "pbx-1", "pbx-2", "nvr-3", "pbx-3", "ups-1", "ups-lab"]  # fmt: skip
AMI_SECRET = "discover-ami-secret"  # the simulated PBX's
ISAPI_PASSWORD = "discover-isapi-pw"  # the simulated recorder's
V3_KEYS = {"auth_key": "discover-auth-1", "priv_key": "discover-priv-1"}


class Garbage(threading.Thread):
    """Answers every datagram with nonsense: the request echoed back (well-formed BER,
    but a request, not a response) or random bytes."""

    def __init__(self, address: str, port: int, echo: bool) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, port))
        self.sock.settimeout(0.1)
        self.echo = echo
        self.heard = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            self.heard += 1
            self.sock.sendto(data if self.echo else random.randbytes(40), peer)

    def stop(self) -> None:
        self.stopping.set()
        self.join()
        self.sock.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    net = f"127.{random.randint(100, 250)}.{random.randint(0, 255)}"
    addresses = [
        f"{net}.{n}" for n in (1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 16, 17, 18, 20, 21, 22, 40)
    ]
    port = _free_everywhere(addresses)
    isapi_port = _free_everywhere(addresses)
    ami_port = _free_everywhere(addresses)
    workdir = tmp_path_factory.mktemp("discover-site")
    password_file = workdir / "isapi-password"
    password_file.write_text(ISAPI_PASSWORD + "\n")
    secret_file = workdir / "ami-secret"
    secret_file.write_text(AMI_SECRET + "\n")
    written = workdir / "fleet-site.yaml"
    fleet = FLEET.format(
        net=net, port=port, isapi_port=isapi_port, isapi_password=ISAPI_PASSWORD,
        ami_port=ami_port, ami_secret=AMI_SECRET, **V3_KEYS,
    )  # fmt: skip
    sim = SimFleet(workdir, fleet, ["--write-config", str(written)])
    snmpd = Snmpd(workdir / "snmpd", port=port, host=f"{net}.20")
    echo, noise = Garbage(f"{net}.21", port, echo=True), Garbage(f"{net}.22", port, echo=False)
    sim.start(timeout=20)
    try:
        snmpd.start()
        echo.start()
        noise.start()
        expected = {d["id"]: d for d in yaml.safe_load(written.read_text())["devices"]}
        yield Site(
            net, port, sim, expected, snmpd.host, isapi_port, password_file, ami_port, secret_file
        )
    finally:
        for responder in (echo, noise):
            if responder.is_alive():
                responder.stop()
        snmpd.stop()
        sim.stop()


def discover(site: Site, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    isapi = ["--isapi-user", "lvgw", "--password-file", str(site.password_file),
             "--isapi-port", str(site.isapi_port), "--modbus", "--modbus-port", str(site.port),
             "--ami-user", "lvgw", "--ami-secret-file", str(site.secret_file),
             "--ami-port", str(site.ami_port)]  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "gateway", "discover", f"{site.net}.0/27", "--port",
         str(site.port), "--timeout", "1s", "--retries", "1", *isapi, "-o", str(out), *extra],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_every_snmp_device_found_with_the_fleets_kind_profile_and_parent(
    site: Site, tmp_path: Path
) -> None:
    draft = tmp_path / "draft.yaml"
    result = discover(site, draft)
    assert result.returncode == 0, result.stderr
    assert "probed" in result.stderr  # progress while it runs
    text = draft.read_text()
    sent = re.search(r": (\d+) requests in ([\d.]+) s", text)
    assert sent is not None
    assert (int(sent[1]) - 1) / float(sent[2]) <= 50  # at most 50 requests/s by default
    devices = {d["id"]: d for d in yaml.safe_load(text)["devices"]}
    assert sorted(devices) == sorted(IN_RANGE)
    for device_id in IN_RANGE:
        want, got = site.expected[device_id], devices[device_id]
        assert (got["kind"], got["profile"]) == (want["kind"], want["profile"]), device_id
        assert got.get("parent") == want.get("parent"), device_id
        assert (got["address"], got["port"]) == (want["address"], want["port"])
    assert devices["sw-core"]["role"] == "core"
    # The vendor flavours by their vendors' profiles, chosen by the profiles' match rules.
    vendors = {d: devices[d]["profile"] for d in ("sw-core", "sw-floor1", "sw-floor3", "ups-1")}
    assert vendors == {"sw-core": "switch-huawei", "sw-floor1": "switch-cisco",
                       "sw-floor3": "switch-h3c", "ups-1": "ups-apc-powernet"}  # fmt: skip
    assert devices["sw-floor2"]["profile"] == "switch-generic"
    assert devices["ups-lab"]["profile"] == "ups-rfc1628"
    # The recorder that serves ISAPI is read over it, as the fleet's site file says.
    assert devices["nvr-1"]["isapi"]["password_file"] == str(site.password_file)
    assert "snmp" not in devices["nvr-1"] and devices["nvr-2"]["profile"] == "nvr-hikvision"
    # So is the PBX with a manager interface.
    assert devices["pbx-1"]["ami"] == {"username": "lvgw", "secret_file": str(site.secret_file)}
    assert devices["pbx-2"]["profile"] == "pbx-asterisk"
    # Net-snmp agents both, told apart by the vendor MIB each answers.
    assert (devices["nvr-3"]["profile"], devices["pbx-3"]["profile"]) == (
        "nvr-synology",
        "pbx-freeswitch",
    )
    # The real net-snmp agent answered but is not guessed into a device.
    unclassified = text.split("# Answered SNMP but not recognised")[1]
    assert f"{site.snmpd}:{site.port}" in unclassified
    assert "sysObjectID 1.3.6.1.4.1.8072.3.2.10" in unclassified
    assert "no profile's match rule fits" in unclassified
    # Garbage and silence are listed, not fatal; the switch outside is seen, not probed.
    garbage = text.split("not with a usable SNMP answer")[1]
    assert f"{site.net}.21:{site.port}: v2c community #1: " in garbage  # its request echoed
    assert f"{site.net}.22:{site.port}: v2c community #1: answered with something" in garbage
    assert f"{site.net}.23-{site.net}.30 port {site.port}" in text  # silent: timeouts
    assert 'ISAPI deviceInfo: deviceType "NVR"' in text
    assert f"sw-remote ({site.net}.40)" in text.split("Seen by the switches but not probed")[1]


def test_the_draft_passes_check_config_once_the_customer_is_filled_in(
    site: Site, tmp_path: Path
) -> None:
    draft = tmp_path / "draft.yaml"
    assert discover(site, draft, "--site-id", "riverside").returncode == 0
    check = [sys.executable, "-m", "gateway", "check-config", "-c", str(draft)]
    refused = subprocess.run(check, capture_output=True, text=True, check=False)
    assert refused.returncode == 2 and "field 'site.customer': missing" in refused.stderr
    filled = (
        draft.read_text()
        .replace(
            "  # customer: {name: ..., contact: ..., phone: ..., address: ...}",
            "  customer: {name: Riverside Property Management}",
        )
        .replace("  # contract: {type: annual, ends: 2027-06-30}", "  contract: {type: annual}")
    )
    draft.write_text(filled)
    accepted = subprocess.run(check, capture_output=True, text=True, check=False)
    assert accepted.returncode == 0, accepted.stderr
    assert f"site riverside is valid: {len(IN_RANGE)} devices" in accepted.stdout


class Recording:
    """Beneath everything discovery does: records where each request would go."""

    def __init__(self, inner: SnmpDriver) -> None:
        self.inner = inner
        self.targets: set[tuple[str, int]] = set()

    async def get(self, target: SnmpTarget, oids: Any) -> list[VarBind]:
        self.targets.add((target.host, target.port))
        return await self.inner.get(target, oids)

    async def walk(
        self, target: SnmpTarget, roots: Any, max_repetitions: int = 25
    ) -> list[VarBind]:
        self.targets.add((target.host, target.port))
        return await self.inner.walk(target, roots, max_repetitions)

    async def close(self) -> None:
        await self.inner.close()


def test_nothing_is_sent_outside_the_ranges_given(site: Site) -> None:
    profiles = shipped_profiles([BUILTIN_PROFILES])
    ranges = [f"{site.net}.0/29", f"{site.net}.8/30"]  # .1-.6 and .9-.10: not .11-.40
    scope = Scope(parse_networks(ranges), (site.port,))
    credential = Credential("v2c community #1", "2c", "public", site_section={})
    plan = Plan(scope, Asking((credential,), tuple(answer_oids(profiles)), 1.0, 1))
    pacer = Pacer(200)
    recording = Recording(SnmpDriver(lean=LeanSnmpClient(pacer=pacer)))
    text = asyncio.run(_run(plan, profiles, recording, pacer, None, "s"))
    inside = {f"{site.net}.{n}" for n in (*range(1, 7), 9, 10)}
    assert {host for host, _ in recording.targets} == inside
    assert {port for _, port in recording.targets} == {site.port}
    # It learned of addresses outside (the LLDP neighbour, the ARP cache) and left them.
    assert f"sw-remote ({site.net}.40)" in text
    devices = {d["id"] for d in yaml.safe_load(text)["devices"]}
    assert devices == {"sw-core", "sw-floor1", "sw-floor2", "sw-floor3", "sw-lab", "nvr-1"}
    assert "isapi" not in text  # no ISAPI login: recorders are read over SNMP


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["10.0.0.0/21"], "more than a /22 (1024): give --yes"),
        (["10.0.0.0/40"], "not an address range (CIDR)"),
        (["10.0.0.0/30", "--port", "0"], "ports are 1-65535"),
        (["10.0.0.0/30", "--v3-user", "u"], "--v3-user needs --auth-key-file"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "draft.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "discover", *args, "-o", str(out)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("lvgw discover: ") and message in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_an_existing_draft_is_not_replaced_without_force(tmp_path: Path) -> None:
    out = tmp_path / "site.yaml"
    out.write_text("edited by hand\n")
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "discover", "192.0.2.0/30", "-o", str(out)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2 and "give --force" in result.stderr
    assert out.read_text() == "edited by hand\n"


def test_a_v3_user_is_tried_after_the_communities_and_written_with_its_key_files(
    site: Site, tmp_path: Path
) -> None:
    auth, priv = tmp_path / "auth.key", tmp_path / "priv.key"
    auth.write_text(V3_KEYS["auth_key"] + "\n")
    priv.write_text(V3_KEYS["priv_key"] + "\n")
    draft = tmp_path / "draft.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "discover", f"{site.net}.0/30", "--port",
         str(site.port), "--timeout", "1s", "--community", "not-this-one",
         "--v3-user", "discv3", "--auth-key-file", str(auth), "--priv-key-file", str(priv),
         "-o", str(draft)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = draft.read_text()
    assert "discover-auth-1" not in text and "discover-priv-1" not in text
    devices = {d["id"]: d for d in yaml.safe_load(text)["devices"]}
    assert sorted(devices) == ["sw-core", "sw-floor1"]  # .1 and .2 of the /30
    assert devices["sw-floor1"]["snmp"] == {
        "version": 3, "user": "discv3", "auth": "sha", "auth_key_file": str(auth),
        "priv": "aes", "priv_key_file": str(priv),
    }  # fmt: skip
    assert devices["sw-floor1"]["parent"] == "sw-core"
    assert "asked with v3 user discv3" in text
