"""The rule engine: readings in, condition changes out, for every device of a site."""

from __future__ import annotations

from datetime import datetime

from gateway.config.load import LoadedConfig
from gateway.config.rules import LevelledRule
from gateway.config.site import Device
from gateway.i18n import translator
from gateway.model import Condition, Level
from gateway.poller.result import PollResult
from gateway.rules.device import DeviceRules, level_of
from gateway.rules.plan import ProfilePlan, plan_profile
from gateway.rules.reads import Watch
from gateway.rules.timers import DeadlineHeap
from gateway.rules.values import SiteValues


class RuleEngine:
    """Feeds poll results (and trap batches) to each device's rules; returns what changed.

    A condition is returned when it is raised, again (same key, ``active=True``) when
    its level changes, and once when it clears (``active=False``); nothing while it
    stays as it is. ``tick(now)`` lets time pass without readings (durations,
    staleness, flapping). Devices are independent, but for counts and shares over the
    site (``over: site``), which read every device's latest values: the order in which
    devices are polled changes no other condition.

    A tick costs what is due, not what exists: each device's earliest deadline is
    kept in a heap, and a tick evaluates only the devices (and of those only the
    rules) whose deadline has come, in site order. A change on one device of what a
    count over the site reads makes those counts due on every device.
    """

    def __init__(self, config: LoadedConfig) -> None:
        plans: dict[str, ProfilePlan] = {}
        self._devices: dict[str, DeviceRules] = {}
        site = self._site = SiteValues()  # every device's values, for counts over the site
        tr = translator(config.site_file.site.locale)
        for device in config.devices:
            profile = config.profile_of(device)
            if profile.id not in plans:
                plans[profile.id] = plan_profile(profile)
            rules = self._devices[device.id] = DeviceRules(device, plans[profile.id], site, tr)
            site.append(rules.values)
        self._order = {device_id: n for n, device_id in enumerate(self._devices)}
        self._site_points: dict[str, Watch] = {}
        for plan in plans.values():
            for reads in plan.reads:
                for point, watch in reads.site_points.items():
                    self._site_points[point] = max(self._site_points.get(point, watch), watch)
        # Every device tells when what a count over the site reads changed on it.
        watches: dict[int, dict[str, int]] = {}
        keeps: dict[int, frozenset[str]] = {}
        for rules in self._devices.values():
            merged = watches.get(id(rules.plan))
            if merged is None:
                merged = watches[id(rules.plan)] = {**rules.values.watch}
                for point, watch in self._site_points.items():
                    merged[point] = max(merged.get(point, watch), watch)
            rules.values.watch = merged
            rules.values.site_points = frozenset(self._site_points)
            rules.values.site = site
            kept = keeps.get(id(rules.plan))
            if kept is None:
                kept = keeps[id(rules.plan)] = rules.plan.kept() | self._site_points.keys()
            rules.values.keep = kept
        self._site_rules = [
            (rules, indices)
            for rules in self._devices.values()
            if (indices := tuple(i for i, r in enumerate(rules.plan.reads) if r.site_tables))
        ]
        self._clock: datetime | None = None  # the latest tick
        self._timers = DeadlineHeap[str]()
        self._also: dict[str, set[int]] = {}  # rules due at the next tick beyond deadlines
        for device_id, rules in self._devices.items():
            self._timers.schedule(device_id, rules.next_due)

    @staticmethod
    def level_of(device: Device, rule: LevelledRule) -> Level:
        """The rule's level for this device: site override, else by role, else default."""
        return level_of(device, rule)

    def evaluate(self, result: PollResult) -> list[Condition]:
        """Judge one poll result, or a batch of trap readings (a result without the
        ``reachable`` reading every poll has), at the result's time."""
        rules = self._devices.get(result.device)
        if rules is None:
            return []
        if self._clock is not None:
            rules.catch_up(self._clock)  # time never runs backwards for a device
        version = self._site.version
        out = rules.on_result(result, self._also.pop(result.device, ()))
        if self._site_rules and self._site.version != version:
            self._site_changed(rules)
        self._timers.schedule(result.device, rules.next_due)
        return out

    def _site_changed(self, changed: DeviceRules) -> None:
        """What counts over the site read changed on a device: they are due everywhere."""
        for rules, indices in self._site_rules:
            if rules is not changed:
                self._also.setdefault(rules.device.id, set()).update(indices)

    def tick(self, now: datetime) -> list[Condition]:
        """Let time pass to ``now``: the devices with something due (in site order)."""
        self._clock = now if self._clock is None else max(self._clock, now)
        due = set(self._timers.pop_due(now)) | self._also.keys()
        out: list[Condition] = []
        for device_id in sorted(due, key=self._order.__getitem__):
            rules = self._devices[device_id]
            out += rules.on_tick(now, self._also.pop(device_id, ()))
            self._timers.schedule(device_id, rules.next_due)
        return out

    def next_deadline(self, device: str) -> datetime | None:
        """When a tick next has something to evaluate on the device (None: nothing
        before new readings)."""
        rules = self._devices.get(device)
        return rules.next_due if rules is not None else None

    @property
    def evaluations(self) -> int:
        """Rule evaluations (one rule at one instance) since the engine started."""
        return sum(rules.evaluations for rules in self._devices.values())

    def active(self, device: str | None = None) -> list[Condition]:
        """Every condition that is active now (of one device, if given), as last emitted."""
        if device is not None:
            rules = self._devices.get(device)
            return rules.active() if rules is not None else []
        return [c for rules in self._devices.values() for c in rules.active()]
