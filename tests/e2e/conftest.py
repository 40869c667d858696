"""Shared fixtures of the end-to-end tests: the service center (a QoS 1 subscriber on
the site's topics), `lvgw status`, and a whole simulated site.

The simulated site (``fleet_site``, one per test module) is real parts only: the
fleet of ``fleet/fleet.yaml`` served by `lvgw-sim run` in a subprocess, mosquitto as
the broker, and `lvgw run` as the gateway in a subprocess, reading the site file the
simulator wrote (``--write-config``) with the changes ``write_site_file`` lists, and
the test copy of the shipped profiles ``write_test_profiles`` makes.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiomqtt
import jsonschema
import pytest
import yaml

from drivers.tasks import stop_task
from gateway import snapshot
from gateway.config.include import load_profile_source
from gateway.demo.processes import free_port
from gateway.views.status import status_document
from tests.e2e.lvgw import lvgw_running
from tests.realservers import Mosquitto, running, wait_until
from tests.simulators.conftest import SimFleet, fleet_with_site, free_port_on, get

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs/schemas/ticket-event.schema.json").read_text())
SHIPPED_PROFILES = ROOT / "config/profiles"
FLEET = Path(__file__).parent / "fleet" / "fleet.yaml"

# Where each device of the fleet listens: every one on its own loopback address, so
# that a trap is matched to the device that sent it.
HOSTS = {
    "sw-core": "127.0.0.1", "sw-acc": "127.0.0.2", "sw-floor": "127.0.0.3",
    "nvr": "127.0.0.4", "pbx": "127.0.0.5", "panel": "127.0.0.6",
    "ups": "127.0.0.7", "ups-drained": "127.0.0.8", "sw-edge": "127.0.0.9",
    "sw-hw": "127.0.0.14", "sw-h3c": "127.0.0.15", "ups-apc": "127.0.0.16",
    "nvr-syno": "127.0.0.17", "pbx-fs": "127.0.0.18",
}  # fmt: skip
SIA_PANEL = "panel-sia"  # reports over DC-09 from 127.0.0.10 to the gateway's receiver
SIA_TEST_PERIOD = 2.0  # its periodic test report (the fleet's test_period)
SIA_GRACE = 2.0  # the gateway's grace on it: panel.comm_lost past 4 s of silence

INTERVAL = 1.0  # seconds between polls of every device
POLL_TIMEOUT = 0.6  # an unanswered poll fails after this (one try, no retry)
RULE_WAIT = 1.5  # every `for` / `clear_for` of the test profiles
FLAP_WINDOW = 4.0  # flapping `window` and `stable` of the test profiles
UPS_DRAINED_CHARGE = 20  # percent left in ups-drained's battery before the gateway starts
UPS_CHARGE_OID = "1.3.6.1.2.1.33.1.2.4.0"  # upsEstimatedChargeRemaining
PANEL_SCHEDULE_TZ = "Asia/Shanghai"
GATEWAY = "gateway"  # the pseudo-device of site-wide outages
OUTAGE_CODES = ("device.unreachable", "network.segment_down", "gateway.network_down")
CLEAR_AFTER = 2  # good polls to clear an outage (the shipped unreachable rules)
# After an outage the gateway holds the other faults of the recovered device and of the
# devices behind it for their clear time, (CLEAR_AFTER + 1) polls (docs/faults.md,
# "The parent recovers"); a case must not start within it.
OUTAGE_HOLD = (CLEAR_AFTER + 1) * INTERVAL + 0.5


# -- the service center ------------------------------------------------------------


class ServiceCenter:
    """Subscribes to the site's topics and collects what arrives."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.tickets: list[dict[str, Any]] = []
        self.arrived_at: list[float] = []  # monotonic time of each ticket event's arrival
        self.status: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()

    async def listen(self) -> None:
        async for message in self.client.messages:
            body = json.loads(bytes(message.payload))
            if str(message.topic).endswith("/tickets"):
                self.tickets.append(body)
                self.arrived_at.append(time.monotonic())
            else:
                self.status.append(body)
            self.arrived.set()

    async def wait_for(self, predicate: Callable[[], object], timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.arrived.clear()
                await self.arrived.wait()

    async def expect(
        self, predicate: Callable[[], object], timeout: float, what: str, seen: Callable[[], object]
    ) -> None:
        """``wait_for``, failing with ``what`` was awaited and what was ``seen`` instead."""
        try:
            await self.wait_for(predicate, timeout)
        except TimeoutError:
            pytest.fail(f"no {what} within {timeout:.1f} s; got {seen()}")

    @asynccontextmanager
    async def listening(self) -> AsyncIterator[ServiceCenter]:
        """Collect messages while inside; between two such blocks they wait in the
        client's queue (the subscription stays)."""
        task = asyncio.create_task(self.listen(), name="service-center")
        try:
            yield self
        finally:
            await stop_task(task)
            assert task.cancelled(), task.exception()

    def events(self, device: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        """The ticket events from the ``since``-th received on, of ``device`` if given."""
        return [e for e in self.tickets[since:] if device is None or e["device"]["id"] == device]

    def from_now(self, device: str | None = None) -> Callable[[], list[dict[str, Any]]]:
        """What gives the ticket events received from now on (of ``device`` if given),
        each time it is called: a test's view of the events its fault causes."""
        since = len(self.tickets)
        return lambda: self.events(device, since)

    def open_tickets(self) -> dict[str, dict[str, Any]]:
        """Tickets opened and not resolved yet: ticket id -> its latest event."""
        latest: dict[str, dict[str, Any]] = {}
        for event in self.tickets:
            latest[event["ticket_id"]] = event
        return {tid: e for tid, e in latest.items() if e["event"] != "resolve"}

    def last_recovery(self) -> tuple[str, float] | None:
        """The device of the latest outage's ticket (a device unreachable, a network
        down) to be resolved, and when that arrived on the monotonic clock."""
        resolved = [
            (event["device"]["id"], at)
            for event, at in zip(self.tickets, self.arrived_at, strict=True)
            if event["event"] == "resolve" and event["fault"]["code"] in OUTAGE_CODES
        ]
        return resolved[-1] if resolved else None


@asynccontextmanager
async def service_center_on(port: int, site_id: str) -> AsyncIterator[ServiceCenter]:
    async with aiomqtt.Client("127.0.0.1", port, identifier="service-center") as client:
        await client.subscribe(f"lvgw/v1/{site_id}/#", qos=1)
        yield ServiceCenter(client)


@pytest.fixture
async def service_center(mosquitto: Mosquitto) -> AsyncIterator[ServiceCenter]:
    async with service_center_on(mosquitto.port, "site-e2e") as center, center.listening():
        yield center


# -- lvgw status -------------------------------------------------------------------


NO_STATUS_YET = "no status yet"  # what `lvgw status` says before the agent's first snapshot


async def lvgw_status(config: Path, *args: str, written: bool = True) -> str:
    """`lvgw status` output; with ``written=False`` the agent may not have written its
    first snapshot yet (then the output says so)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "status", "-c", str(config), *args,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    not_yet = not written and proc.returncode == 1 and out.decode().startswith(NO_STATUS_YET)
    assert proc.returncode == 0 or not_yet, err.decode()
    return out.decode()


async def status_of(
    config: Path, ready: Callable[[dict[str, Any]], bool], timeout: float = 10
) -> dict[str, Any]:
    """The status document `lvgw status --json` prints, once ``ready(status)``: the
    agent rewrites its snapshot every few seconds, the first time within a second or two
    of starting.

    Read in this process (the snapshot file, as the command shows it), not by running
    the command each time: `lvgw status` loads the whole site with its profiles (about
    a second of CPU), which on a loaded machine took longer than the whole wait, so the
    condition was looked at once or not at all. `lvgw status` itself is tested by the
    tests that run it (lvgw_status)."""
    async with asyncio.timeout(timeout):
        while True:
            status = await asyncio.to_thread(_status_document, config)
            if status is not None and ready(status):
                return status
            await asyncio.sleep(0.5)


def _status_document(config: Path) -> dict[str, Any] | None:
    """What `lvgw status -c config --json` prints; None before the first snapshot."""
    data = snapshot.read(Path(yaml.safe_load(config.read_text())["agent"]["state_dir"]))
    return None if data is None else status_document(data)


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


# -- the test copy of the profiles -------------------------------------------------


def write_test_profiles(dest: Path, now: datetime) -> None:
    """Copy the shipped profiles to ``dest``, changing only the rules' waits and the
    alarm panel's schedule, so that a whole catalogue of faults runs in minutes.

    - every ``for`` and ``clear_for`` of a rule or of an escalation step (30 s to
      15 min in the shipped files) becomes RULE_WAIT: a fault still has to hold, and
      to stay gone, for a while before its ticket opens or resolves;
    - every flapping ``window`` and ``stable`` (15 and 10 min) becomes FLAP_WINDOW:
      the tests take devices down and up on purpose, and a whole site's worth of
      that (the core switch takes every device with it) must not count as
      flapping; within FLAP_WINDOW no device can make the transitions flapping needs
      (a raise takes three failed polls);
    - the panel's ``during`` windows (the hours it may be disarmed) become one hour
      starting three hours from ``now``, every day, so ``now`` is outside them.

    Everything else (points, conditions, levels, escalations, titles) is the shipped
    text, loaded and written back as YAML.
    """
    dest.mkdir(parents=True, exist_ok=True)
    window = _window_excluding(now)
    for source in sorted(SHIPPED_PROFILES.glob("*.yaml")):
        profile, _lines = load_profile_source(source)  # written whole, its parts included
        for rule in profile.get("rules", []):
            for trigger in [rule, *rule.get("escalate", [])]:
                _shorten(trigger, ("for", "clear_for"), RULE_WAIT)
            if "flapping" in rule:
                _shorten(rule["flapping"], ("window", "stable"), FLAP_WINDOW)
            _move_windows(rule, window)
        (dest / source.name).write_text(yaml.safe_dump(profile, sort_keys=False))


def _shorten(node: dict[str, Any], keys: tuple[str, ...], seconds: float) -> None:
    for key in keys:
        if key in node:
            node[key] = f"{seconds:g}s"


def _move_windows(node: Any, window: dict[str, Any]) -> None:
    if isinstance(node, dict):
        if "during" in node:
            node["during"] = window
        for value in node.values():
            _move_windows(value, window)
    elif isinstance(node, list):
        for item in node:
            _move_windows(item, window)


def _window_excluding(now: datetime) -> dict[str, Any]:
    start = now.astimezone(ZoneInfo(PANEL_SCHEDULE_TZ)) + timedelta(hours=3)
    end = start + timedelta(hours=1)
    return {
        "from": f"{start:%H:%M}",
        "to": f"{end:%H:%M}",
        "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "tz": PANEL_SCHEDULE_TZ,
    }


# -- the site file -----------------------------------------------------------------


def write_site_file(
    written: Path,
    broker: Mosquitto,
    state_dir: Path,
    profiles: Path,
    traps: str,
    intervals: dict[str, float],
    changes: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """The simulator's site file, changed for the test: the uplink to ``broker``,
    state in ``state_dir``, profiles from ``profiles`` first, traps received on
    ``traps`` (where the fleet sends them), trap polls at most every INTERVAL, no status
    page, polls every INTERVAL
    (``intervals`` by device id where a test wants another) that fail fast
    (POLL_TIMEOUT, no retry) so an outage shows within seconds. POLL_TIMEOUT stays
    well under INTERVAL: the gateway expects a failed poll within its interval."""
    doc = yaml.safe_load(written.read_text())
    doc["uplink"]["mqtt"] = {"host": broker.host, "port": broker.port}
    doc["agent"] = {"state_dir": str(state_dir), "profile_dirs": [str(profiles)],
                    "status_listen": None}  # fmt: skip
    doc["traps"]["listen"] = traps
    # A trap's poll comes at most once per trap_poll_every (10 s, a third of the shipped
    # 30 s interval); scaled like the interval, or a linkUp right after a linkDown waits
    # out the 10 s window and its resolve misses the bounds the cases allow.
    doc.setdefault("limits", {})["trap_poll_every"] = f"{INTERVAL:g}s"
    for section, values in (changes or {}).items():  # the test module's SITE_FILE_CHANGES
        doc.setdefault(section, {}).update(values)
    for device in doc["devices"]:
        interval = intervals.get(device["id"], INTERVAL)
        device["interval"] = f"{interval:g}s"
        if "sia" in device:  # a panel that reports: nothing to time out
            device["sia"]["grace"] = f"{SIA_GRACE:g}s"
            continue
        settings = device.get("snmp") or device["modbus"]
        settings["timeout"] = f"{POLL_TIMEOUT:g}s"
        if "snmp" in device:
            # A device polled rarely retries: one lost answer would cost a whole interval.
            settings["retries"] = 0 if interval == INTERVAL else 2
    path = written.with_name("site.test.yaml")
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def fleet_text(traps: str) -> str:
    text = FLEET.read_text()
    for device, host in HOSTS.items():
        kind = socket.SOCK_STREAM if device == "panel" else socket.SOCK_DGRAM
        text = text.replace("{" + device + "}", str(free_port_on(host, kind)))
    sia = f"127.0.0.1:{free_port()}"  # the gateway's DC-09 receiver: TCP and UDP free
    return text.replace("{traps}", traps).replace("{sia}", sia)


# -- the simulated site ------------------------------------------------------------


@dataclass
class FleetSite:
    """A running simulated site: the fleet, the broker, the gateway, the service center."""

    sim: SimFleet
    config: Path
    gateway: subprocess.Popen[bytes]
    gateway_log: Path
    center: ServiceCenter
    parents: dict[str, str | None] = field(default_factory=dict)  # from the site file

    async def inject(self, device: str, fault: str, **params: object) -> None:
        args = {key: str(value) for key, value in params.items()}
        await asyncio.to_thread(self.sim.client.inject, device, fault, args)

    async def clear(self, device: str, fault: str | None = None, **params: object) -> None:
        args = {key: str(value) for key, value in params.items()}
        await asyncio.to_thread(self.sim.client.clear, device, fault, args)

    async def clear_all(self) -> None:
        for device in await asyncio.to_thread(self.sim.client.devices):
            if device["faults"]:
                await self.clear(device["id"])

    async def settle(self, timeout: float, device: str | None = None) -> None:
        """Every fault cleared and every ticket resolved; and ``device`` (or every
        device) out of the hold that follows an outage above it: the next case starts
        clean."""
        await self.clear_all()
        await self.center.wait_for(lambda: not self.center.open_tickets(), timeout)
        recovered = self.center.last_recovery()
        if recovered is None:
            return
        root, at = recovered
        if device is None or root in (*self.path_to(device), GATEWAY):
            await asyncio.sleep(max(0.0, at + OUTAGE_HOLD - time.monotonic()))

    def path_to(self, device: str) -> list[str]:
        """The device and every device it is reached through."""
        path = [device]
        while (parent := self.parents.get(path[-1])) is not None:
            path.append(parent)
        return path

    def log(self) -> str:
        return self.gateway_log.read_text(errors="replace")


def drain_ups(sim: SimFleet, device: str, target: int) -> None:
    """Run a UPS's battery down to ``target`` percent, then give it mains back: it then
    recharges at a quarter of its (fleet-long) runtime's pace, so it stays low."""
    sim.client.inject(device, "on_battery", {"minutes": "0.03"})  # empty in 1.8 s
    target_address = f"{HOSTS[device]}:{_port_of(sim, device)}"

    def drained() -> bool:
        return int(get(target_address, UPS_CHARGE_OID)[UPS_CHARGE_OID]) <= target

    wait_until(drained, 10, f"{device} drained to {target} %")
    sim.client.clear(device, "on_battery", {})


def _port_of(sim: SimFleet, device: str) -> int:
    entry = next(d for d in sim.client.devices() if d["id"] == device)
    return int(str(entry["endpoint"]).rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def e2e_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path_factory.mktemp("e2e-mosquitto"))
    with running(broker):
        yield broker


@pytest.fixture(scope="module")
def e2e_fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimFleet, str]]:
    """The fleet, started, with ups-drained's battery run down; and where it sends traps."""
    workdir = tmp_path_factory.mktemp("e2e-fleet")
    traps = f"127.0.0.1:{free_port_on('127.0.0.1')}"
    with fleet_with_site(workdir, fleet_text(traps)) as (sim, _):
        drain_ups(sim, "ups-drained", UPS_DRAINED_CHARGE)
        yield sim, traps


@pytest.fixture(scope="module")
async def fleet_site(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    e2e_broker: Mosquitto,
    e2e_fleet: tuple[SimFleet, str],
) -> AsyncIterator[FleetSite]:
    """The gateway running against the fleet, as the module's service center sees it.

    A test module may set ``POLL_INTERVALS = {device id: seconds}`` for devices it
    wants polled at another pace than INTERVAL, and ``SITE_FILE_CHANGES = {section:
    {key: value}}`` for keys of the site file's sections (``limits``, ``uplink``)."""
    sim, traps = e2e_fleet
    intervals: dict[str, float] = getattr(request.module, "POLL_INTERVALS", {})
    changes: dict[str, dict[str, Any]] = getattr(request.module, "SITE_FILE_CHANGES", {})
    workdir = tmp_path_factory.mktemp("e2e-site")
    profiles = workdir / "profiles"
    write_test_profiles(profiles, datetime.now().astimezone())
    config = write_site_file(
        sim.workdir / "site.yaml", e2e_broker, workdir / "state", profiles, traps, intervals,
        changes,
    )  # fmt: skip
    site_id = yaml.safe_load(config.read_text())["site"]["id"]
    log_path = workdir / "gateway.log"
    async with (
        service_center_on(e2e_broker.port, site_id) as center,
        lvgw_running(config, log_path) as gateway,
    ):
        parents = {d["id"]: d.get("parent") for d in yaml.safe_load(config.read_text())["devices"]}
        site = FleetSite(sim, config, gateway, log_path, center, parents)
        async with center.listening():
            await center.wait_for(lambda: any(s["state"] == "online" for s in center.status), 20)
        # Cases start once every device answered two polls (ports seen up, a baseline,
        # and the rates of its counters).
        await every_device_answered(config, set(parents) - set(intervals), timeout=30)
        yield site


async def every_device_answered(config: Path, devices: set[str], timeout: float) -> None:
    """Until each of ``devices`` answered two polls: it was reachable in two snapshots
    with two different last polls (a counter's rate needs two readings).

    Not all of them reachable in the same snapshot: a device is reachable there if its
    latest poll was answered, and with POLL_TIMEOUT and no retry a loaded machine fails
    a poll now and then (an outage takes three in a row), so waiting for every one at
    once could wait out the deadline with every device answering."""
    answered: dict[str, set[str]] = {device: set() for device in devices}

    def all_answered_twice(status: dict[str, Any]) -> bool:
        for d in status["devices"]:
            if d["reachable"] and d["id"] in answered:
                answered[d["id"]].add(d["last_poll"])
        return all(len(polls) >= 2 for polls in answered.values())

    try:
        await status_of(config, all_answered_twice, timeout)
    except TimeoutError:
        short = sorted(device for device, polls in answered.items() if len(polls) < 2)
        pytest.fail(f"not answered twice within {timeout:g} s: {short}")


@pytest.fixture
async def site(fleet_site: FleetSite) -> AsyncIterator[FleetSite]:
    """The module's simulated site, its service center listening during the test
    (a listener left running would be a task the test leaves behind)."""
    async with fleet_site.center.listening():
        yield fleet_site


def validate(event: dict[str, Any]) -> None:
    jsonschema.validate(event, SCHEMA)
