"""On real parts: net-snmp agents stand for a core switch, an access switch and the NVR,
PBX and alarm panel hanging off it; the gateway's SNMP driver polls them on their
schedules, the rule engine judges, the correlator probes with real SNMP requests,
and the ticket book decides tickets.

Killing the access switch takes everything behind it off the network: on one
loopback interface that is every agent behind it stopping at once. One ticket, on
the switch, listing the three; when they come back it resolves, and nothing else
was ever opened.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drivers.snmp.driver import SnmpDriver
from drivers.tasks import stop_task
from gateway.config import LoadedConfig
from gateway.correlate import Correlator
from gateway.model import EventKind, TicketEvent
from gateway.poller import DeviceSchedule, PollResult, run_pollers
from gateway.protocols.snmp.reader import SnmpPointReader
from gateway.rules import RuleEngine
from gateway.tickets import ServiceClocks, TicketBook
from tests.correlate.kit import UNREACHABLE, site_config
from tests.realservers import Snmpd

pytestmark = pytest.mark.integration

INTERVAL = 0.3
BEHIND = ("nvr-1", "pbx-1", "panel-1")
KINDS = {
    "sw-core": "switch",
    "sw-1": "switch",
    "nvr-1": "nvr",
    "pbx-1": "pbx",
    "panel-1": "alarm_panel",
}
PARENTS = {"sw-1": "sw-core", "nvr-1": "sw-1", "pbx-1": "sw-1", "panel-1": "sw-1"}


@pytest.fixture
def agents(tmp_path: Path) -> Iterator[dict[str, Snmpd]]:
    started: dict[str, Snmpd] = {}
    try:
        for device in KINDS:
            started[device] = Snmpd(tmp_path / f"snmpd-{device}")
            started[device].start()
        yield started
    finally:
        for agent in started.values():
            agent.stop()


def site(tmp_path: Path, agents: dict[str, Snmpd]) -> LoadedConfig:
    devices = {}
    for device, kind in KINDS.items():
        spec: dict[str, object] = {
            "kind": kind,
            "address": "127.0.0.1",
            "port": agents[device].port,
            "snmp": {"version": "2c", "community": "public", "timeout": "0.2s", "retries": 0},
            "interval": f"{INTERVAL}s",
        }
        if device in PARENTS:
            spec["parent"] = PARENTS[device]
        devices[device] = spec
    return site_config(tmp_path, devices)


class Gateway:
    """Pollers -> rules -> correlator -> ticket book, ticking every 0.1 s."""

    def __init__(self, config: LoadedConfig, snmp: SnmpDriver) -> None:
        self.results: asyncio.Queue[PollResult] = asyncio.Queue()
        self.readers = {}
        probes = {}
        for device in config.devices:
            profile = config.profile_of(device)
            self.readers[device.id] = SnmpPointReader(device, profile, snmp)
            probes[device.id] = SnmpPointReader(device, profile, snmp)  # a state of its own

        async def probe(device_id: str) -> bool:
            return (await probes[device_id].poll()).reachable

        self.rules = RuleEngine(config)
        self.correlator = Correlator(
            config,
            probe,
            link=lambda: None,
            listing_interval=timedelta(seconds=0.5),
        )
        self.book = TicketBook(
            "s", ServiceClocks.for_site(config.site_file.site.zone, config.site_file.site.clocks),
            {d.id: d.kind.value for d in config.devices},
        )  # fmt: skip
        self.events: list[TicketEvent] = []
        self.answered: set[str] = set()  # devices that answered a poll
        self.changed = asyncio.Event()
        self.schedules = [
            DeviceSchedule(d.id, self.readers[d.id], d.interval, self.results)
            for d in config.devices
        ]

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(run_pollers(self.schedules), name="pollers")
            while True:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.1):
                        result = await self.results.get()
                        if result.reachable:
                            self.answered.add(result.device)
                            self.changed.set()
                        for condition in self.rules.evaluate(result):
                            self._book(await self.correlator.process(condition))
                now = datetime.now(UTC)
                for condition in self.rules.tick(now):
                    self._book(await self.correlator.process(condition))
                self._book(await self.correlator.tick(now))

    def _book(self, conditions: list) -> None:  # type: ignore[type-arg]
        for condition in conditions:
            self.events += self.book.on_condition(condition).events
            self.changed.set()

    async def until(self, predicate: Callable[[], bool], timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()


@contextlib.asynccontextmanager
async def running(config: LoadedConfig) -> AsyncIterator[Gateway]:
    snmp = SnmpDriver()
    gateway = Gateway(config, snmp)
    task = asyncio.create_task(gateway.run(), name="gateway")
    try:
        yield gateway
    finally:
        await stop_task(task, reraise=True)
        await snmp.close()


async def test_killing_the_switch_yields_one_ticket_listing_what_hangs_off_it(
    tmp_path: Path, agents: dict[str, Snmpd]
) -> None:
    async with running(site(tmp_path, agents)) as gateway:
        await gateway.until(lambda: gateway.answered == set(KINDS), timeout=10)
        assert gateway.events == []
        for device in ("sw-1", *BEHIND):
            agents[device].kill()

        def listed() -> bool:
            ticket = gateway.book.open.get(("sw-1", UNREACHABLE, ""))
            return ticket is not None and set(ticket.related) == set(BEHIND)

        await gateway.until(listed, timeout=15)
        assert {e.ticket_id for e in gateway.events} == {gateway.events[0].ticket_id}
        assert [(e.device_id, e.fault_code) for e in gateway.events] == [
            ("sw-1", UNREACHABLE)
        ] * len(gateway.events)
        assert gateway.events[-1].severity == 1  # it stands for an NVR, a PBX, a panel
        assert list(gateway.book.open) == [("sw-1", UNREACHABLE, "")]

        for device in ("sw-1", *BEHIND):
            await asyncio.to_thread(agents[device].start)
        await gateway.until(lambda: not gateway.book.open, timeout=15)
        # The children's own clears come and go quietly.
        await gateway.until(lambda: not gateway.rules.active(), timeout=10)
        assert [e.event for e in gateway.events][-1] is EventKind.RESOLVE
        assert {e.ticket_id for e in gateway.events} == {gateway.events[0].ticket_id}
        assert gateway.book.open == {}
