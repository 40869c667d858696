"""A site in simulation: what really happens (devices die, links are cut), polls at
each device's own pace through the real rule engine, and the correlator after it.

Used by the golden cases (tests/cases/correlate/) and the order property. Probes
answer from the same truth as the polls, at the moment they are asked.

A timeline is a list of steps, each at an offset from T0 (``90s``, ``2m``, ``1h``):

    {at: 1m, kill: [sw-1]}          the devices stop answering (and all behind them)
    {at: 9m, revive: [sw-1]}
    {at: 1m, cut: sw-1}             sw-1 answers, nothing behind it does
    {at: 9m, mend: sw-1}
    {at: 1m, link: down}            the gateway's own link (``up`` again)
    {at: 1m, condition: {device: nvr-1, code: nvr.disk_failed, level: 2,
                         active: true, instance: "3"}}     as if the rules raised it
    {at: 1m, maintenance: {set: nvr-1, for: 1h, by: Li, reason: disk swap}}
    {at: 1m, maintenance: {clear: nvr-1}}
    {at: 1m, restart: true}         the agent restarts: new rules and correlator state
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gateway.config import LoadedConfig
from gateway.correlate import Correlator, StormPolicy
from gateway.correlate.maintenance import end_time
from gateway.correlate.topology import Topology
from gateway.model import Condition, Level, Reading
from gateway.poller import PollResult
from gateway.rules import RuleEngine
from tests.correlate.kit import T0
from tests.rules.harness import offset, seconds

LINK_PROBLEM = "network interface of the default route is down: eth0 down"
TICK = 5.0  # seconds between the agent's ticks


def describe(at: datetime, condition: Condition) -> dict[str, Any]:
    """One emitted condition as the expected files write it."""
    out: dict[str, Any] = {
        "at": offset(at),
        "device": condition.device,
        "code": condition.code,
        "active": condition.active,
        "level": int(condition.level),
        "since": offset(condition.since),
    }
    if condition.instance:
        out["instance"] = condition.instance
    if condition.related:
        out["related"] = list(condition.related)
    if condition.maintenance:
        out["maintenance"] = True
    return out


@dataclass
class World:
    """The truth: which devices are dead, which parents' links are cut, the gateway's link."""

    topology: Topology
    dead: set[str] = field(default_factory=set)
    cut: set[str] = field(default_factory=set)
    link_down: bool = False

    def answers(self, device: str) -> bool:
        ancestors = self.topology.ancestors(device)
        return not (
            self.link_down or device in self.dead or self.dead.intersection(ancestors)
        ) and not self.cut.intersection(ancestors)


class SiteRun:
    """Plays a timeline; ``emitted`` collects (time, condition) as the ticket book sees them."""

    def __init__(
        self,
        config: LoadedConfig,
        phases: Mapping[str, float] | None = None,
        storms: StormPolicy | None = None,
    ) -> None:
        self.config = config
        self.storms = storms
        self.world = World(Topology.from_config(config))
        self.phases = {d.id: (phases or {}).get(d.id, 0.0) for d in config.devices}
        self.now = T0
        self.emitted: list[tuple[datetime, Condition]] = []
        self._start()

    def _start(self) -> None:
        self.engine = RuleEngine(self.config)
        self.correlator = Correlator(self.config, self._probe, storms=self.storms, link=self._link)

    async def _probe(self, device: str) -> bool:
        return self.world.answers(device)

    def _link(self) -> str | None:
        return LINK_PROBLEM if self.world.link_down else None

    async def run(self, timeline: Iterable[Mapping[str, Any]], until: float) -> None:
        queue: list[tuple[float, int, int, str, Any]] = []  # (time, priority, seq, kind, what)
        seq = 0
        for step in timeline:
            seq += 1
            heapq.heappush(queue, (seconds(step["at"]), 0, seq, "step", step))
        for device in self.config.devices:
            t = self.phases[device.id]
            while t <= until:
                seq += 1
                heapq.heappush(queue, (t, 1, seq, "poll", device.id))
                t += device.interval
        t = 0.0
        while t <= until:
            seq += 1
            heapq.heappush(queue, (t, 2, seq, "tick", None))
            t += TICK
        while queue:
            t, _, _, kind, what = heapq.heappop(queue)
            self.now = T0 + timedelta(seconds=t)
            if kind == "step":
                await self._step(what)
            elif kind == "poll":
                await self._poll(what)
            else:
                await self._tick()

    async def _poll(self, device: str) -> None:
        ok = self.world.answers(device)
        result = PollResult(device, self.now, ok, (Reading(device, "reachable", ok, self.now),))
        for condition in self.engine.evaluate(result):
            self._emit(await self.correlator.process(condition))

    async def _tick(self) -> None:
        for condition in self.engine.tick(self.now):
            self._emit(await self.correlator.process(condition))
        self._emit(await self.correlator.tick(self.now))

    def _emit(self, conditions: list[Condition]) -> None:
        self.emitted += [(self.now, c) for c in conditions]

    async def _step(self, step: Mapping[str, Any]) -> None:
        world = self.world
        world.dead |= set(_names(step.get("kill")))
        world.dead -= set(_names(step.get("revive")))
        world.cut |= set(_names(step.get("cut")))
        world.cut -= set(_names(step.get("mend")))
        if "link" in step:
            world.link_down = step["link"] == "down"
        if "condition" in step:
            spec = step["condition"]
            condition = Condition(
                device=spec["device"],
                code=spec["code"],
                level=Level(spec.get("level", 3)),
                title=f"{spec['code']} on {spec['device']}",
                active=spec.get("active", True),
                since=self.now,
                instance=str(spec.get("instance", "")),
            )
            self._emit(await self.correlator.process(condition))
        if "maintenance" in step:
            self._maintenance(step["maintenance"])
        if step.get("restart"):
            self._start()

    def _maintenance(self, spec: Mapping[str, Any]) -> None:
        store = self.correlator.store
        if "clear" in spec:
            store.clear_maintenance(spec["clear"], now=self.now)
            return
        until = spec.get("until")
        end = (
            T0 + timedelta(seconds=seconds(until))
            if until is not None
            else end_time(self.now, span=spec["for"])
        )
        store.set_maintenance(spec["set"], end, spec["by"], spec.get("reason", ""), self.now)

    def open_incidents(self) -> dict[tuple[str, str, str], tuple[int, tuple[str, ...]]]:
        """What the ticket book would hold open now: key -> (level, related)."""
        state: dict[tuple[str, str, str], tuple[int, tuple[str, ...]]] = {}
        for _, c in self.emitted:
            if c.active:
                state[c.key] = (int(c.level), c.related)
            else:
                state.pop(c.key, None)
        return state


def _names(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def play(
    config: LoadedConfig,
    timeline: Iterable[Mapping[str, Any]],
    until: float,
    phases: Mapping[str, float] | None = None,
    storms: StormPolicy | None = None,
) -> SiteRun:
    """Run a whole timeline on a loop of its own (for hypothesis examples, which are
    not coroutines); the loop is not made current, so the tests' loop is untouched."""
    run = SiteRun(config, phases, storms)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(run.run(timeline, until))
    finally:
        loop.close()
    return run
