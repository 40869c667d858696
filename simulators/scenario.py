"""Scenario files: a timeline of faults injected and cleared, for demos and soak runs.

    name: site power cut
    repeat: false            # true: start over every `period`
    period: 10m              # required with repeat: true
    steps:
      - {at: 5s, device: panel-1, inject: mains_fail, set: {minutes: 10}}
      - {at: 5s, device: ups-1, inject: on_battery}
      - {at: 2m, device: panel-1, clear: mains_fail}
      - {at: 2m, device: ups-1, clear: all}

Played by ``lvgw-sim run --fleet F --scenario S``. Every step is checked against the
fleet before anything is served: unknown devices, faults and parameters are
`FILE:LINE` errors.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, model_validator

from simulators import yamlfile
from simulators.errors import ConfigError, SimulatorError, located
from simulators.fleet_schema import Ident, Strict
from simulators.models.base import DeviceModel
from simulators.yamlfile import parse_duration

log = logging.getLogger("simulators.scenario")


class Step(Strict):
    at: str | float
    device: Ident
    inject: str | None = None
    clear: str | None = None
    set: dict[str, str | int | float] = {}

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        parse_duration(self.at)
        if (self.inject is None) == (self.clear is None):
            raise ValueError("a step has exactly one of inject: or clear:")
        return self

    @property
    def seconds(self) -> float:
        return parse_duration(self.at)

    def describe(self) -> str:
        args = ",".join(f"{key}={value}" for key, value in self.set.items())
        action = f"inject {self.inject}" if self.inject else f"clear {self.clear}"
        return f"{self.device} {action}" + (f"({args})" if args else "")


class Scenario(Strict):
    name: str = ""
    repeat: bool = False
    period: str | float | None = None
    steps: Annotated[list[Step], Field(min_length=1)]

    @model_validator(mode="after")
    def _period(self) -> Scenario:
        if self.repeat:
            if self.period is None:
                raise ValueError("repeat: true needs a period")
            if parse_duration(self.period) <= max(step.seconds for step in self.steps):
                raise ValueError("period must be longer than the last step's time")
        return self

    def timeline(self) -> list[Step]:
        return sorted(self.steps, key=lambda step: step.seconds)


def load_scenario(path: Path, models: dict[str, DeviceModel]) -> Scenario:
    scenario, data = yamlfile.load_model(path, Scenario, "scenario")
    problems = []
    for index, step in enumerate(scenario.steps):
        line = data["steps"].lines[index]
        model = models.get(step.device)
        if model is None:
            problems.append(located(path, line, f"steps[{index}]: no device {step.device!r}"))
            continue
        fault = step.inject or step.clear
        if fault == "all" and step.clear:
            continue
        try:
            if step.inject is not None:
                model.check_fault(step.inject, step.set)
            else:
                model.fault_spec(str(fault))
        except SimulatorError as exc:
            problems.append(located(path, line, f"steps[{index}]: {exc}"))
    if problems:
        raise ConfigError(problems)
    return scenario


Apply = Callable[[Step], Any]


async def play(scenario: Scenario, apply: Apply) -> None:
    """Run the timeline (forever when it repeats); a failing step is logged, not fatal."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while True:
        for step in scenario.timeline():
            delay = start + step.seconds - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                apply(step)
                log.info("scenario %s: t=%gs %s", scenario.name, step.seconds, step.describe())
            except SimulatorError as exc:
                log.warning("scenario step %s failed: %s", step.describe(), exc)
        if not scenario.repeat or scenario.period is None:
            return
        start += parse_duration(scenario.period)


def runtime_applier(runtime: Any) -> Apply:
    """Apply steps to an in-process FleetRuntime."""

    def apply(step: Step) -> None:
        if step.inject is not None:
            runtime.inject(step.device, step.inject, step.set)
        else:
            runtime.clear(step.device, None if step.clear == "all" else step.clear, step.set)

    return apply
