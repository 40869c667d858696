"""Driving the rule engine from data: a site of devices, device states, polls, ticks.

Used by the engine's tests and by the golden cases (tests/cases/rules/). A device's
state is what a simulator would hold: every poll reads all of it, so a timeline only
says what changes. Reading names carry their instance in brackets: ``if.oper_status[3]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from gateway.config import load_config
from gateway.model import Condition, Quality, Reading, Value
from gateway.poller import PollResult
from gateway.rules import RuleEngine

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC
_KEY = re.compile(r"^([a-z][a-z0-9_.]*)(?:\[([^\]]*)\])?$")
_SPAN = re.compile(r"(\d+(?:\.\d+)?)(h|m|s)")
# A device state's value for a point the agent answers it has no such object for
# (SNMP noSuchObject): the poll reads it with quality ABSENT. A timeline says
# ``absent: [pbx.version]`` to make points absent, and ``set`` to bring them back.
ABSENT = "<absent>"


def seconds(text: float | int | str) -> float:
    """``90``, ``"90s"``, ``"1m30s"``, ``"2h"`` -> seconds."""
    if isinstance(text, int | float):
        return float(text)
    parts = _SPAN.findall(text.replace(" ", ""))
    if not parts or "".join(n + u for n, u in parts) != text.replace(" ", ""):
        raise ValueError(f"not a time offset: {text!r}")
    return sum(float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)


def offset(at: datetime) -> str:
    """A time as an offset from T0, the way timelines write it (``1m30s``)."""
    total = round((at - T0).total_seconds(), 3)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{int(hours)}h" if hours else "") + (f"{int(minutes)}m" if minutes else "")
    if secs or not text:
        text += f"{secs:g}s"
    return text


def split_key(key: str) -> tuple[str, str]:
    match = _KEY.match(key)
    if not match:
        raise ValueError(f"not a reading name: {key!r} (e.g. if.oper_status[3])")
    return match.group(1), match.group(2) or ""


def write_site(
    directory: Path,
    devices: Iterable[Mapping[str, Any]],
    profile_dirs: Iterable[Path] = (),
    sections: Mapping[str, Any] = {},
) -> Path:
    """A site file with these devices (id, kind, profile; role, levels, name optional) and
    any further top-level ``sections`` (a receiver's ``sia:``, say)."""
    entries = []
    for n, device in enumerate(devices, start=1):
        entries.append({"address": f"192.0.2.{n}", **device})
        _write_secret_files(directory, device)
    site = {
        "site": {"id": "s", "name": "S", "customer": {"name": "C"}, "contract": {"type": "annual"}},
        "uplink": {"mqtt": {"host": "127.0.0.1"}},
        "agent": {"profile_dirs": [str(p) for p in profile_dirs]},
        **sections,
        "devices": entries,
    }
    path = directory / "site.yaml"
    path.write_text(yaml.safe_dump(site, sort_keys=False))
    return path


def _write_secret_files(directory: Path, device: Mapping[str, Any]) -> None:
    """The secret files a device's sections name (an AMI account's ``secret_file``):
    they must exist for the site file to load, though nothing here reads them."""
    for section in device.values():
        if isinstance(section, Mapping):
            for key, value in section.items():
                if key.endswith("_file") and isinstance(value, str):
                    (directory / value).write_text("not-read\n")


def engine_with(
    directory: Path, devices: Iterable[Mapping[str, Any]], profiles: Mapping[str, str] = {}
) -> RuleEngine:
    """An engine for a site of ``devices``; ``profiles`` maps a profile id to its YAML text."""
    profile_dir = directory / "profiles"
    profile_dir.mkdir(exist_ok=True)
    for name, text in profiles.items():
        (profile_dir / f"{name}.yaml").write_text(text)
    return RuleEngine(load_config(write_site(directory, devices, [profile_dir])))


def readings(device: str, ts: datetime, values: Mapping[str, Value]) -> tuple[Reading, ...]:
    out = []
    for key, value in values.items():
        point, instance = split_key(key)
        if value == ABSENT:
            out.append(Reading(device, point, None, ts, instance, quality=Quality.ABSENT))
        else:
            out.append(Reading(device, point, value, ts, instance))
    return tuple(out)


def poll(device: str, at: float, values: Mapping[str, Value] = {}) -> PollResult:
    ts = T0 + timedelta(seconds=at)
    base = (Reading(device, "reachable", True, ts), Reading(device, "rtt", 1.0, ts, unit="ms"))
    return PollResult(device, ts, True, base + readings(device, ts, values))


def down(device: str, at: float) -> PollResult:
    ts = T0 + timedelta(seconds=at)
    return PollResult(device, ts, False, (Reading(device, "reachable", False, ts),), "timeout")


def trap(device: str, at: float, values: Mapping[str, Value]) -> PollResult:
    ts = T0 + timedelta(seconds=at)
    return PollResult(device, ts, True, readings(device, ts, values), source="trap")


@dataclass
class Step:
    """One thing that happens at a time: a state change, a poll, a tick or a trap."""

    at: float
    rank: int  # at the same time, state changes come before what observes them
    order: int
    kind: str
    device: str = ""
    values: dict[str, Value] = field(default_factory=dict)
    remove: list[str] = field(default_factory=list)


def steps(events: list[dict[str, Any]]) -> list[Step]:
    """A golden case's events, with repetitions (``every``, ``until``) expanded, in order."""
    out: list[Step] = []
    for order, event in enumerate(events):
        start = seconds(event["at"])
        every = seconds(event["every"]) if "every" in event else None
        until = seconds(event.get("until", event["at"]))
        times = [start]
        while every is not None and times[-1] + every <= until + 1e-9:
            times.append(times[-1] + every)
        for at in times:
            out.append(_step(event, at, order))
    return sorted(out, key=lambda s: (s.at, s.rank, s.order))


def _step(event: dict[str, Any], at: float, order: int) -> Step:
    if "set" in event or "remove" in event or "absent" in event:
        values = dict(event.get("set") or {}) | dict.fromkeys(event.get("absent") or [], ABSENT)
        return Step(at, 0, order, "set", event["device"], values,
                    list(event.get("remove") or []))  # fmt: skip
    if "poll" in event:
        return Step(at, 1, order, "poll", event["poll"])
    if "trap" in event:
        return Step(at, 1, order, "trap", event["trap"], dict(event["readings"]))
    if event.get("tick"):
        return Step(at, 1, order, "tick")
    raise ValueError(f"unknown event: {event}")


class Timeline:
    """Plays steps against an engine, holding each device's state like a simulator."""

    def __init__(
        self, engine: RuleEngine, states: Mapping[str, Mapping[str, Value]] | None = None
    ) -> None:
        self.engine = engine
        self.state: dict[str, dict[str, Value]] = {d: dict(s) for d, s in (states or {}).items()}

    def play(self, step: Step) -> list[Condition]:
        if step.kind == "set":
            state = self.state.setdefault(step.device, {})
            state.update(step.values)
            for key in step.remove:
                state.pop(key, None)
            return []
        if step.kind == "tick":
            return self.engine.tick(T0 + timedelta(seconds=step.at))
        if step.kind == "trap":
            return self.engine.evaluate(trap(step.device, step.at, step.values))
        state = dict(self.state.get(step.device, {}))
        if state.pop("reachable", True) is False:
            return self.engine.evaluate(down(step.device, step.at))
        return self.engine.evaluate(poll(step.device, step.at, state))

    def run(self, all_steps: Iterable[Step]) -> Iterator[tuple[datetime, Condition]]:
        """Every condition change, with the time of the step that produced it."""
        for step in all_steps:
            at = T0 + timedelta(seconds=step.at)
            for condition in self.play(step):
                yield at, condition


def describe(at: datetime, condition: Condition) -> dict[str, Any]:
    """A condition change as a golden file writes it (``since`` only when not ``at``)."""
    out: dict[str, Any] = {"at": offset(at), "device": condition.device}
    if condition.since != at:
        out["since"] = offset(condition.since)
    out["code"] = condition.code
    if condition.instance:
        out["instance"] = condition.instance
    out["level"] = int(condition.level)
    out["active"] = condition.active
    out["title"] = condition.title
    if condition.evidence:
        out["evidence"] = [
            f"{r.point}[{r.instance}] = {_shown(r)}" if r.instance else f"{r.point} = {_shown(r)}"
            for r in condition.evidence
        ]
    return out


def _shown(reading: Reading) -> object:
    """A reading's value in a golden file; one not measured says why (``<absent>``)."""
    return reading.value if reading.quality is Quality.GOOD else f"<{reading.quality.value}>"
