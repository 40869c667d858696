"""Helpers for the views: a site with a hostile device name, a status snapshot from the
real ticket book, a metric store file with history, and a raw HTTP client."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway import snapshot
from gateway.config import load_config
from gateway.config.load import LoadedConfig
from gateway.metrics.store.core import SeriesStore
from gateway.model import Condition, Level, Reading
from gateway.poller.result import PollResult
from gateway.tickets import ServiceClocks, TicketBook

HOSTILE = "<script>alert('x')</script> & \"Lobby\" <img src=x onerror=alert(1)>"
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def hostile_yaml() -> str:
    escaped = HOSTILE.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def write_site(directory: Path, extra_agent: str = "", snmp_port: int = 161, mqtt_port: int = 1883,
               interval: str = "30s") -> Path:  # fmt: skip
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "site.yaml"
    path.write_text(
        f"""
site:
  id: site-view
  name: Riverside <Office> Park
  customer: {{name: "Riverside & Co", contact: Li Wei, phone: "+86 21 5555 0100",
             address: 88 Riverside Road}}
  contract: {{type: annual, ends: 2027-06-30}}
uplink:
  mqtt: {{host: 127.0.0.1, port: {mqtt_port}}}
agent:
  state_dir: {directory / "state"}
{extra_agent}
devices:
  - id: sw-core
    name: {hostile_yaml()}
    kind: switch
    profile: switch-generic
    address: 127.0.0.1
    port: {snmp_port}
    snmp: {{version: 2c, community: public, timeout: 0.2s, retries: 0}}
    interval: {interval}
    role: core
  - id: ups-1
    name: UPS server room
    kind: ups
    profile: ups-rfc1628
    address: 127.0.0.9
    parent: sw-core
"""
    )
    return path


def status_snapshot(config: LoadedConfig, now: datetime = NOW) -> snapshot.StatusSnapshot:
    """The snapshot the agent would write: sw-core down with an open L1 ticket."""
    site = config.site_file.site
    clocks = ServiceClocks.for_site(site.zone, site.clocks, site.local_zone)
    book = TicketBook(
        site.id, clocks, {d.id: d.kind.value for d in config.devices}, now=lambda: now
    )
    since = now - timedelta(minutes=4)
    title = f"Switch sw-core ({HOSTILE}) is unreachable"
    book.on_condition(Condition("sw-core", "device.unreachable", Level.L1, title, True, since))
    views = {"sw-core": snapshot.DeviceView(), "ups-1": snapshot.DeviceView()}
    views["sw-core"].update(
        PollResult("sw-core", now - timedelta(seconds=20), False, (), "timeout")
    )
    views["ups-1"].update(
        PollResult("ups-1", now - timedelta(seconds=10), True, (
            Reading("ups-1", "ups.charge", 97, now, unit="%"),
            Reading("ups-1", "ups.battery_voltage", 27.1, now, unit="V"),
        ))
    )  # fmt: skip
    uplink = snapshot.UplinkStatus(connected=True)
    return snapshot.build(config, views, book.open.values(), uplink, now)


def write_history(state_dir: Path, now: datetime = NOW) -> None:
    """A week of UPS battery voltage and charge, hourly, and sw-core's port errors."""
    state_dir.mkdir(parents=True, exist_ok=True)
    clock_now = now
    store = SeriesStore.open(state_dir / "metrics.db", clock=lambda: clock_now.timestamp())
    try:
        for hour in range(7 * 24, -1, -1):
            when = now - timedelta(hours=hour)
            clock_now = when
            store.add([
                Reading("ups-1", "ups.battery_voltage", 27.4 - 0.002 * (7 * 24 - hour), when, unit="V"),
                Reading("ups-1", "ups.charge", 100 - (hour % 24 == 3) * 12, when, unit="%"),
                Reading("sw-core", "if.in_errors.rate", 0.01 * (hour % 5), when, "1", "/s"),
                Reading("sw-core", "if.in_errors.rate", 0.02, when, "2", "/s"),
            ])  # fmt: skip
        store.flush()
        store.maintain()
    finally:
        store.close()


@dataclass
class HttpAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


async def http(port: int, path: str, *, method: str = "GET", headers: dict[str, str] | None = None,
               host: str = "127.0.0.1") -> HttpAnswer:  # fmt: skip
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        # Read to the end: the server keeps a connection open for the next request unless told.
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = raw.partition(b"\r\n\r\n")
    first, *rest = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in rest:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return HttpAnswer(int(first.split(" ")[1]), parsed, body)


def load(path: Path) -> LoadedConfig:
    return load_config(path)
