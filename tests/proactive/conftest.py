"""A site with the real ticket pipeline, outbox and metric store on a controlled clock.

`Gateway` is what the agent assembles for proactive maintenance: the `Pipeline`
(ticket book + ticket store), the `Outbox`, the embedded `MetricStore` and the
`ProactiveScheduler`, all on files in one state directory. `restart()` closes them
and opens new ones on the same files, as a stopped and restarted agent would.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.config import load_config
from gateway.config.load import LoadedConfig
from gateway.metrics.store import MetricStore
from gateway.outbox import MessageClass, Outbox
from gateway.pipeline import Pipeline, load_tickets
from gateway.proactive.scheduler import ProactiveScheduler
from gateway.proactive.service import build_scheduler
from gateway.snapshot import StatusSnapshot
from gateway.tickets.history import TicketHistory

NVR_PROFILE = """
description: test NVR with a disk table
kinds: [nvr]
protocol: snmp
points:
  sys.uptime: {oid: 1.3.6.1.2.1.1.3.0, type: timeticks, unit: s}
tables:
  disk:
    instance: disk
    columns:
      status:
        oid: 1.3.6.1.4.1.50001.1.241.1.3
        type: int
        states: {0: normal, 3: smartfailed}
        meaning: disk_status
      free: {oid: 1.3.6.1.4.1.50001.1.241.1.4, type: int, unit: MB, meaning: disk_free}
      capacity: {oid: 1.3.6.1.4.1.50001.1.241.1.5, type: int, unit: MB, meaning: disk_capacity}
"""

PANEL_PROFILE = """
description: test alarm panel over Modbus
kinds: [alarm_panel]
protocol: modbus
points:
  panel.system:
    {table: holding, address: 0, type: bitfield, bits: {0: mains_fail, 1: battery_low},
     meanings: {mains_fail: mains_lost, battery_low: battery_low}}
  panel.battery_voltage:
    {table: input, address: 1, type: uint16, scale: 0.01, unit: V, meaning: battery_voltage}
rules:
  - code: panel.battery_low
    type: check
    title: "Battery of {device} low"
    level: 3
    when: {point: panel.battery_voltage, lt: 11.8}
"""


class FakeClock:
    """The time as the test says it is."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        assert when >= self.now, "time runs forward"
        self.now = when

    def epoch(self) -> float:
        return self.now.timestamp()


def write_site(directory: Path, contract: str, devices: str = "", extra: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    profiles = directory / "profiles"
    profiles.mkdir(exist_ok=True)
    (profiles / "nvr-test.yaml").write_text(NVR_PROFILE)
    (profiles / "panel-test.yaml").write_text(PANEL_PROFILE)
    path = directory / "site.yaml"
    path.write_text(
        f"""
site:
  id: site-pm
  name: Harbour Depot
  customer: {{name: Harbour Logistics, contact: Mei, phone: "+86 21 5555 0101"}}
  contract: {contract}
  timezone: Asia/Shanghai
uplink:
  mqtt: {{host: 127.0.0.1, port: 1883}}
agent:
  state_dir: {directory / "state"}
  status_listen: null
{extra}
devices:
  - {{id: sw-core, kind: switch, profile: switch-generic, address: 127.0.0.1, role: core}}
{devices}
"""
    )
    return path


@dataclass
class Gateway:
    """The agent's proactive side, opened on the files of ``config``'s state dir."""

    config: LoadedConfig
    clock: FakeClock
    status: Callable[[], StatusSnapshot | None]
    with_metrics: bool = True  # without: no forecast job (the contract tests run faster)
    outbox: Outbox | None = None
    metrics: MetricStore | None = None
    history: TicketHistory | None = None
    pipeline: Pipeline | None = None
    scheduler: ProactiveScheduler | None = None

    @property
    def state_dir(self) -> Path:
        return self.config.site_file.agent.state_dir

    async def start(self, config: LoadedConfig | None = None) -> ProactiveScheduler:
        self.config = config or self.config
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.outbox = await Outbox(self.state_dir / "outbox.db").open()
        if self.with_metrics:
            self.metrics = await MetricStore(
                self.state_dir / "metrics.db", clock=self.clock.epoch
            ).open()
        self.history = await TicketHistory.in_state_dir(self.state_dir).open()
        self.pipeline = Pipeline(
            self.config, self.outbox, await load_tickets(self.outbox), now=self.clock
        )
        self.scheduler = await build_scheduler(
            self.config, self.pipeline, self.outbox, self.status, self.metrics,
            self.history, clock=self.clock,
        )  # fmt: skip
        return self.scheduler

    async def stop(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.close()
        if self.metrics is not None:
            await self.metrics.close()
        if self.outbox is not None:
            await self.outbox.close()
        if self.history is not None:
            await self.history.close()
        self.outbox = self.metrics = self.history = None
        self.pipeline = self.scheduler = None

    async def restart(self, config: LoadedConfig | None = None) -> ProactiveScheduler:
        await self.stop()
        return await self.start(config)

    async def step(self, when: datetime) -> list[str]:
        """Move the clock to ``when`` and run what fell due (as APScheduler would)."""
        self.clock.set(when)
        assert self.scheduler is not None
        return await self.scheduler.fire_due()

    async def messages(self, cls: MessageClass) -> list[tuple[str, dict[str, Any]]]:
        """Every message of class ``cls`` ever put in the outbox (none is delivered here)."""
        assert self.outbox is not None
        found = await self.outbox.pending(100_000, classes=(cls,))
        return [(m.topic, json.loads(m.payload)) for m in found]

    async def ticket_events(self, code: str | None = None) -> list[dict[str, Any]]:
        events = [body for _, body in await self.messages(MessageClass.TICKET)]
        return [e for e in events if code is None or e["fault"]["code"] == code]


@pytest.fixture
async def gateway_factory(
    tmp_path: Path,
) -> AsyncIterator[Callable[..., Gateway]]:
    made: list[Gateway] = []

    def make(
        contract: str,
        start: datetime,
        devices: str = "",
        status: Callable[[], StatusSnapshot | None] = lambda: None,
        with_metrics: bool = True,
    ) -> Gateway:
        config = load_config(write_site(tmp_path / "site", contract, devices))
        gateway = Gateway(config, FakeClock(start), status, with_metrics)
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        await gateway.stop()


def shanghai(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time (UTC+8, no DST) as an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)
