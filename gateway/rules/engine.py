"""The rule engine: readings in, condition changes out, for every device of a site."""

from __future__ import annotations

from datetime import datetime

from gateway.config.load import LoadedConfig
from gateway.config.rules import LevelledRule
from gateway.config.site import Device
from gateway.model import Condition, Level
from gateway.poller.result import PollResult
from gateway.rules.device import DeviceRules, level_of
from gateway.rules.plan import ProfilePlan, plan_profile
from gateway.rules.values import DeviceValues


class RuleEngine:
    """Feeds poll results (and trap batches) to each device's rules; returns what changed.

    A condition is returned when it is raised, again (same key, ``active=True``) when
    its level changes, and once when it clears (``active=False``); nothing while it
    stays as it is. ``tick(now)`` lets time pass without readings (durations,
    staleness, flapping). Devices are independent, but for counts and shares over the
    site (``over: site``), which read every device's latest values: the order in which
    devices are polled changes no other condition.
    """

    def __init__(self, config: LoadedConfig) -> None:
        plans: dict[str, ProfilePlan] = {}
        self._devices: dict[str, DeviceRules] = {}
        site: list[DeviceValues] = []  # every device's values, for counts over the site
        for device in config.devices:
            profile = config.profile_of(device)
            if profile.id not in plans:
                plans[profile.id] = plan_profile(profile)
            rules = self._devices[device.id] = DeviceRules(device, plans[profile.id], site)
            site.append(rules.values)

    @staticmethod
    def level_of(device: Device, rule: LevelledRule) -> Level:
        """The rule's level for this device: site override, else by role, else default."""
        return level_of(device, rule)

    def evaluate(self, result: PollResult) -> list[Condition]:
        """Judge one poll result, or a batch of trap readings (a result without the
        ``reachable`` reading every poll has), at the result's time."""
        rules = self._devices.get(result.device)
        return rules.on_result(result) if rules is not None else []

    def tick(self, now: datetime) -> list[Condition]:
        """Let time pass to ``now`` on every device (in site order)."""
        return [c for rules in self._devices.values() for c in rules.on_tick(now)]

    def active(self, device: str | None = None) -> list[Condition]:
        """Every condition that is active now (of one device, if given), as last emitted."""
        if device is not None:
            rules = self._devices.get(device)
            return rules.active() if rules is not None else []
        return [c for rules in self._devices.values() for c in rules.active()]
