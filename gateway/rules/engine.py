"""The rule engine: per device, per rule, per instance state; emits condition changes."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.config.load import LoadedConfig
from gateway.config.profile import UnreachableRule
from gateway.config.site import Device
from gateway.model import Condition, Level
from gateway.poller.result import PollResult


@dataclass(slots=True)
class _Streak:
    """Consecutive failed and good polls, and whether the condition is raised."""

    failed: int = 0
    good: int = 0
    raised: Condition | None = None


class RuleEngine:
    """Feeds each poll result to the device's rules; returns the conditions that changed.

    A condition is returned once when it becomes active and once when it clears
    (``active=False``); while it stays active nothing is returned.
    """

    def __init__(self, config: LoadedConfig) -> None:
        self._devices = {d.id: d for d in config.devices}
        self._unreachable: dict[str, UnreachableRule] = {}
        for device in config.devices:
            for rule in config.profile_of(device).rules:
                if isinstance(rule, UnreachableRule):
                    self._unreachable[device.id] = rule
        self._streaks: dict[str, _Streak] = {}

    def level_of(self, device: Device, rule: UnreachableRule) -> Level:
        """The rule's level for this device: site override, else by role, else default."""
        return device.levels.get(rule.code, rule.level_for(device.role))

    def evaluate(self, result: PollResult) -> list[Condition]:
        rule = self._unreachable.get(result.device)
        if rule is None:
            return []
        device = self._devices[result.device]
        streak = self._streaks.setdefault(result.device, _Streak())
        if result.reachable:
            streak.good, streak.failed = streak.good + 1, 0
        else:
            streak.failed, streak.good = streak.failed + 1, 0
        if streak.raised is None and streak.failed >= rule.raise_after:
            streak.raised = Condition(
                device=device.id,
                code=rule.code,
                level=self.level_of(device, rule),
                title=rule.title.format(device=device.id, name=device.name or device.id),
                active=True,
                since=result.ts,
                evidence=result.readings,
            )
            return [streak.raised]
        if streak.raised is not None and streak.good >= rule.clear_after:
            cleared = Condition(
                device=device.id,
                code=rule.code,
                level=streak.raised.level,
                title=streak.raised.title,
                active=False,
                since=result.ts,
                evidence=result.readings,
            )
            streak.raised = None
            return [cleared]
        return []

    def active(self) -> list[Condition]:
        return [s.raised for s in self._streaks.values() if s.raised is not None]
