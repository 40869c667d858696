"""A generated site for the delivery tests, and a deterministic storm of incidents.

The profile is the tests' own (a switch with one unreachable rule: raised after 3
failed polls, cleared after 2 good ones), so the storm's arithmetic does not change
when the shipped profiles do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gateway.model import TicketEvent
from gateway.pipeline import Pipeline
from gateway.poller import PollResult

PROFILE = """\
description: A switch that is either reachable or not (delivery tests)
kinds: [switch]
protocol: snmp
points:
  sys.uptime: {oid: 1.3.6.1.2.1.1.3.0, type: timeticks, unit: s}
rules:
  - code: device.unreachable
    type: unreachable
    title: "Switch {device} is unreachable"
    level: 2
    level_by_role: {core: 1}
    raise_after: 3
    clear_after: 2
"""

SITE = """\
site:
  id: {site_id}
  name: Delivery test site
  customer: {{name: Test Customer, contact: Ann, phone: "+1 555 0100", address: 1 Test Road}}
  contract: {{type: annual, ends: 2027-06-30}}
  zone: urban
  clocks: {clocks}
uplink:
  mqtt: {mqtt}
agent:
  state_dir: {state_dir}
  status_listen: null
devices:
{devices}"""


def write_site(
    directory: Path,
    site_id: str,
    mqtt: str,
    devices: int,
    clocks: str = "{}",
    profile: str = PROFILE,
) -> Path:
    """A site file with ``devices`` switches ``sw-000``...; ``mqtt`` is a YAML mapping,
    ``profile`` the text of their profile."""
    (directory / "profiles").mkdir(parents=True, exist_ok=True)
    (directory / "profiles" / "storm-switch.yaml").write_text(profile)
    lines = "".join(
        f"  - {{id: sw-{i:03d}, kind: switch, profile: storm-switch, address: 192.0.2.{i % 250 + 1}}}\n"
        for i in range(devices)
    )
    path = directory / "site.yaml"
    path.write_text(
        SITE.format(
            site_id=site_id,
            mqtt=mqtt,
            clocks=clocks,
            state_dir=directory / "state",
            devices=lines,
        )
    )
    return path


@dataclass(frozen=True, slots=True)
class Storm:
    """Every device goes down for ``down`` poll rounds, then up for ``up``, ``cycles``
    times; device ``i`` starts ``i % stagger`` rounds late, so incidents overlap.

    Each down phase is one incident (raised on its 3rd failed poll, cleared on the 2nd
    good one): ``devices * cycles`` incidents, twice as many ticket events. A ticket
    stays open for ``down - 2`` rounds, so a gateway restarted at any moment finds
    open tickets whose devices stay down long enough to be raised again.
    """

    devices: int = 50
    cycles: int = 10
    down: int = 8
    up: int = 4
    stagger: int = 12

    @property
    def period(self) -> int:
        return self.down + self.up

    @property
    def rounds(self) -> int:
        # The last device's last phase, then a tail of good polls that resolves all.
        return self.stagger + self.cycles * self.period + self.up

    @property
    def incidents(self) -> int:
        return self.devices * self.cycles

    def is_down(self, device: int, round_no: int) -> bool:
        k = round_no - device % self.stagger
        return k >= 0 and k // self.period < self.cycles and k % self.period < self.down

    def results(self, round_no: int, at: datetime | None = None) -> list[PollResult]:
        ts = at or datetime.now(UTC)
        return [
            PollResult(f"sw-{i:03d}", ts, not self.is_down(i, round_no), ())
            for i in range(self.devices)
        ]


async def drive(
    pipeline: Pipeline,
    storm: Storm,
    *,
    first_round: int = 0,
    decided: Callable[[list[TicketEvent]], Awaitable[None]] | None = None,
    round_done: Callable[[int], None] | None = None,
) -> None:
    """Feed the storm's poll rounds to the pipeline, as the pollers would."""
    for round_no in range(first_round, storm.rounds):
        for result in storm.results(round_no):
            decision = await pipeline.handle(result)
            if decision.events and decided is not None:
                await decided(decision.events)
        if round_done is not None:
            round_done(round_no)
