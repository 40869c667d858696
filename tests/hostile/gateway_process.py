"""A real `lvgw run` under attack: the site, the process, and what the suite measures.

The site has three devices: ``healthy`` (net-snmp's snmpd, polled every second),
``dead`` (nothing answers: its unreachable ticket must still open) and whatever the
attack adds. A test watches the process from outside, as an operator would: its RSS
from /proc, its retained MQTT status, its status snapshot (the healthy device's last
poll must keep moving) and the tickets on the broker.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiomqtt

from drivers.tasks import stop_task
from tests.realservers import Mosquitto, Snmpd, free_port

MB = 1024 * 1024
SITE_ID = "site-h"
PREFIX = f"lvgw/v1/{SITE_ID}/"
RSS_GROWTH_LIMIT = 50 * MB  # the acceptance bound of issue 13
LISTING_INTERVAL_S = 60.0  # the correlator's default listing_interval (gateway/correlate)


def write_site(
    directory: Path,
    broker: Mosquitto,
    healthy: Snmpd,
    extra: str = "",
    key_file: Path | None = None,
) -> Path:
    """The site file; ``extra`` adds device entries (YAML list items); ``key_file`` is
    the command key that inbound messages must be signed with."""
    dead_port = free_port()
    key = f"  command_key_file: {key_file}\n" if key_file else ""
    path = directory / "site.yaml"
    path.write_text(
        f"site:\n  id: {SITE_ID}\n  name: Hostile input site\n"
        "  customer: {name: Test}\n  contract: {type: annual}\n  timezone: UTC\n"
        f"uplink:\n  mqtt: {{host: 127.0.0.1, port: {broker.port}}}\n{key}"
        f"agent:\n  state_dir: {directory / 'state'}\n  status_listen: null\n"
        "limits: {poll_deadline: 5s}\n"
        "devices:\n"
        f"  - {{id: healthy, kind: switch, profile: switch-generic, address: 127.0.0.1,"
        f" port: {healthy.port}, interval: 1s, snmp: {{timeout: 0.5s, retries: 0}}}}\n"
        f"  - {{id: dead, kind: ups, profile: ups-rfc1628, address: 127.0.0.1,"
        f" port: {dead_port}, interval: 1s, snmp: {{timeout: 0.3s, retries: 0}}}}\n" + extra
    )
    return path


def rss_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert match is not None
    return int(match.group(1)) * 1024


@dataclass
class Observed:
    """What the service center saw: status messages and ticket events."""

    status: list[dict[str, Any]] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)

    def online(self) -> bool:
        return bool(self.status) and self.status[-1].get("state") == "online"

    def opened(self, device: str) -> bool:
        """A ticket was opened or updated for ``device``, or lists it (a storm's)."""
        return any(
            t["event"] in ("open", "update")
            and (t["device"]["id"] == device or device in t.get("related_devices", ()))
            for t in self.tickets
        )


class GatewayProcess:
    def __init__(self, site: Path) -> None:
        self.site = site
        self.state_dir = site.parent / "state"
        self.log = site.parent / "lvgw.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.peak_rss = 0

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gateway", "run", "-c", str(self.site)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss(self) -> int:
        assert self.proc is not None
        rss = rss_of(self.proc.pid)
        self.peak_rss = max(self.peak_rss, rss)
        return rss

    def device(self, device: str) -> dict[str, Any]:
        """The device's entry in the status snapshot ({} before there is one)."""
        try:
            snapshot = json.loads((self.state_dir / "status.json").read_text())
        except (OSError, ValueError):
            return {}
        return next((e for e in snapshot.get("devices", []) if e["id"] == device), {})

    def last_poll(self, device: str) -> datetime | None:
        polled = self.device(device).get("last_poll")
        return datetime.fromisoformat(polled.replace("Z", "+00:00")) if polled else None

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


async def watch(broker: Mosquitto, observed: Observed) -> None:
    async with aiomqtt.Client("127.0.0.1", broker.port, identifier="hostile-center") as client:
        await client.subscribe(PREFIX + "status", qos=1)
        await client.subscribe(PREFIX + "tickets", qos=1)
        async for message in client.messages:
            body = json.loads(bytes(message.payload))
            if str(message.topic).endswith("/status"):
                observed.status.append(body)
            else:
                observed.tickets.append(body)


async def until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.1)


@asynccontextmanager
async def gateway_under_attack(
    site: Path, broker: Mosquitto
) -> AsyncIterator[tuple[GatewayProcess, Observed]]:
    """`lvgw run` started, online, polling ``healthy`` and with ``dead``'s ticket open;
    on exit, it must still be alive and stop cleanly (exit 0)."""
    observed = Observed()
    watcher = asyncio.create_task(watch(broker, observed), name="hostile-center")
    gateway = GatewayProcess(site)
    gateway.start()
    try:
        try:
            await until(observed.online, 30, "status online")
            await until(lambda: gateway.last_poll("healthy") is not None, 30, "healthy polled")
            # When other devices went down a moment before the dead one, they form a storm
            # first and the dead device joins it: the storm's ticket lists it at its next
            # listing update, at most once per listing interval (60 s after the storm was
            # passed on). Hence the interval plus the raise time and slack.
            await until(
                lambda: observed.opened("dead"),
                LISTING_INTERVAL_S + 30,
                "ticket of the dead device",
            )
        except AssertionError as exc:  # say what the gateway did meanwhile
            seen = [(t["event"], t["device"]["id"], t["fault"]["code"]) for t in observed.tickets]
            raise AssertionError(f"{exc}; tickets {seen}\n{gateway.log_text()[-4000:]}") from None
        yield gateway, observed
        assert gateway.alive, gateway.log_text()[-3000:]
    finally:
        code = gateway.stop()
        await stop_task(watcher)
    assert code == 0, gateway.log_text()[-3000:]


async def still_serving(gateway: GatewayProcess, observed: Observed, within: float = 15) -> None:
    """The healthy device is polled again, and the status is online."""
    before = gateway.last_poll("healthy")
    await until(lambda: gateway.last_poll("healthy") != before, within, "healthy polled again")
    assert observed.online(), observed.status[-1:]
