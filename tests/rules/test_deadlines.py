"""Time-driven work costs what is pending: deadlines fire with no poll in between, a
tick evaluates only what is due, and a poll like the one before evaluates no rule.

The engine must answer exactly as one that evaluates every rule of every device at
every poll and tick: every golden case is played both ways, with ticks added.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.config import load_config
from gateway.model import Condition, Level
from gateway.rules import RuleEngine
from gateway.rules.device import DeviceRules
from tests.cases.rules.test_rules_golden import CASES, STATES
from tests.examples import QUICK
from tests.rules.box import box_engine
from tests.rules.harness import T0, Step, Timeline, describe, down, poll, steps, write_site


def ticks(engine: RuleEngine, start: float, end: float, every: float = 1.0) -> list[Condition]:
    out: list[Condition] = []
    at = start
    while at <= end + 1e-9:
        out += engine.tick(T0 + timedelta(seconds=at))
        at += every
    return out


HOT = """
  - code: temp.high
    type: check
    title: "{name} is at {temp:.1f} C"
    level: 3
    when: {point: temp, gt: 70}
    for: 2m
    clear_for: 1m
"""


def test_a_duration_ends_on_a_tick_with_no_poll_in_between(tmp_path: Path) -> None:
    engine = box_engine(tmp_path, HOT)
    assert engine.evaluate(poll("box", 0, {"temp": 80})) == []
    assert engine.next_deadline("box") == T0 + timedelta(minutes=2)
    assert ticks(engine, 1, 119) == []
    raised = ticks(engine, 120, 120)
    assert [(c.code, c.active, c.since) for c in raised] == [
        ("temp.high", True, T0 + timedelta(minutes=2))
    ]
    # The clear needs a minute of not holding: one poll, then ticks only.
    assert engine.evaluate(poll("box", 130, {"temp": 60})) == []
    assert engine.next_deadline("box") == T0 + timedelta(seconds=190)
    assert ticks(engine, 131, 189) == []
    assert [(c.code, c.active) for c in ticks(engine, 190, 190)] == [("temp.high", False)]
    # A change is looked at once more at the next tick (it may start another wait).
    assert ticks(engine, 191, 191) == []
    assert engine.next_deadline("box") is None


def test_ticks_with_nothing_due_evaluate_nothing(tmp_path: Path) -> None:
    engine = box_engine(tmp_path, HOT)
    engine.tick(T0)  # the first tick looks at every rule once
    engine.evaluate(poll("box", 0, {"temp": 20}))
    before = engine.evaluations
    assert ticks(engine, 1, 600) == []
    assert engine.evaluations == before
    assert engine.next_deadline("box") is None


STALE = """
  - code: heartbeat.stale
    type: check
    title: "No heartbeat from {name}"
    level: 2
    when: {point: heartbeat, of: age, gt: 300}
"""


def test_staleness_is_a_deadline_of_the_last_reading(tmp_path: Path) -> None:
    engine = box_engine(tmp_path, STALE)
    engine.evaluate(poll("box", 0, {"heartbeat": 1}))
    engine.evaluate(poll("box", 60, {"heartbeat": 2}))
    engine.evaluate(poll("box", 120, {}))  # the heartbeat is gone from the polls
    assert engine.next_deadline("box") == T0 + timedelta(seconds=360)
    assert ticks(engine, 121, 360) == []  # "older than 300 s" is not yet true at 300 s
    got = ticks(engine, 361, 361)
    assert [(c.code, c.active) for c in got] == [("heartbeat.stale", True)]
    back = engine.evaluate(poll("box", 400, {"heartbeat": 3}))
    assert [(c.code, c.active) for c in back] == [("heartbeat.stale", False)]
    assert ticks(engine, 401, 401) == []
    assert engine.next_deadline("box") == T0 + timedelta(seconds=700)


FLAPPY = """
  - code: device.unreachable
    type: unreachable
    title: "{device} unreachable"
    level: 1
    raise_after: 1
    clear_after: 1
    flapping: {code: device.flapping, title: "{device} keeps dropping off", transitions: 3, window: 10m, stable: 5m}
"""


def test_flapping_settles_on_a_tick_with_no_poll_in_between(tmp_path: Path) -> None:
    engine = box_engine(tmp_path, FLAPPY)
    out: list[Condition] = []
    for n, up in enumerate([True, False, True, False]):
        out += engine.evaluate(poll("box", 30 * n) if up else down("box", 30 * n))
    assert [(c.code, c.active) for c in out][-1] == ("device.flapping", True)
    # Last transition at 90 s: stable from 390 s. The device stays down, no more polls.
    assert engine.next_deadline("box") == T0 + timedelta(seconds=390)
    assert ticks(engine, 91, 389) == []
    settled = ticks(engine, 390, 390)
    assert [(c.code, c.active) for c in settled] == [
        ("device.flapping", False),
        ("device.unreachable", True),
    ]


def test_a_poll_like_the_one_before_evaluates_no_rule(tmp_path: Path) -> None:
    rules = HOT + STALE.replace("of: age, gt: 300", "gt: 5")
    engine = box_engine(tmp_path, rules)
    engine.evaluate(poll("box", 0, {"temp": 20, "heartbeat": 1}))
    before = engine.evaluations
    engine.evaluate(poll("box", 30, {"temp": 20, "heartbeat": 1}))
    assert engine.evaluations == before
    engine.evaluate(poll("box", 60, {"temp": 20, "heartbeat": 9}))
    assert engine.evaluations == before + 1  # only the rule that reads the heartbeat
    assert [(c.code, c.active) for c in engine.evaluate(poll("box", 90, {"temp": 99}))] == []
    # temp is read anew: its rule waits 2 minutes; the heartbeat's rule cannot tell.
    assert engine.next_deadline("box") == T0 + timedelta(seconds=210)


# -- the same answers as evaluating everything, always --------------------------------


@contextmanager
def every_rule_everywhere() -> Iterator[None]:
    """The engine as it was: every rule at every poll, every device at every tick."""
    affected, tick = DeviceRules._affected, RuleEngine.tick

    def all_rules(self: DeviceRules, *_args: Any) -> list[int]:
        return list(range(len(self.plan.rules)))

    def tick_all(self: RuleEngine, now: datetime) -> list[Condition]:
        return [
            c
            for rules in self._devices.values()
            for c in rules.on_tick(now, range(len(rules.plan.rules)))
        ]

    DeviceRules._affected = all_rules  # type: ignore[method-assign,assignment]
    RuleEngine.tick = tick_all  # type: ignore[method-assign]
    try:
        yield
    finally:
        DeviceRules._affected = affected  # type: ignore[method-assign]
        RuleEngine.tick = tick  # type: ignore[method-assign]


# `make check` (LVGW_QUICK_EXAMPLES=1) ticks every second for the first 20 minutes of a
# case, where the short cases and the first deadlines of the long ones fall, then every
# 7 s (off the poll grid): the 4-hour cases cost the reference engine (every rule of
# every device at every tick) 15,000 ticks otherwise. `make test` ticks every second
# to the end.
DENSE_QUICK_S = 1_200.0
SPARSE_QUICK_S = 7.0


def tick_times(end: float, every: float) -> list[float]:
    times, at = [], 0.0
    while at <= end:
        times.append(at)
        at += SPARSE_QUICK_S if QUICK and at >= DENSE_QUICK_S else every
    return times


def play(case: Path, directory: Path, extra_ticks: float | None) -> list[dict[str, Any]]:
    spec = yaml.safe_load((case / "input.yaml").read_text())
    profiles = [case / "profiles"] if (case / "profiles").is_dir() else []
    devices, states = [], {}
    for entry in spec["devices"]:
        device = dict(entry)
        if "state" in device:
            states[device["id"]] = yaml.safe_load(
                (STATES / f"{device.pop('state')}.yaml").read_text()
            )
        devices.append(device)
    config = load_config(write_site(directory, devices, profiles, spec.get("sections", {})))
    timeline: list[Step] = steps(spec["events"])
    if extra_ticks is not None:
        end = max(s.at for s in timeline) + 120
        timeline += [Step(at, 1, 10_000, "tick") for at in tick_times(end, extra_ticks)]
        timeline.sort(key=lambda s: (s.at, s.rank, s.order))
    engine = RuleEngine(config)
    return [describe(at, c) for at, c in Timeline(engine, states).run(timeline)]


@pytest.mark.parametrize("every", [None, 1.0], ids=["own-ticks", "tick-1s"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_same_answers_as_evaluating_everything(
    case: Path, every: float | None, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with every_rule_everywhere():
        reference = play(case, tmp_path / "a", every)
    assert play(case, tmp_path / "b", every) == reference


# -- more timers that fire with no poll in between --------------------------------

CAMERAS_ESCALATING = """
  - code: cameras.offline
    type: check
    title: "{count} of {total} cameras of {device} offline"
    level: 3
    when: {count: {point: cam.status, eq: offline}, ge: 1}
    escalate:
      - level: 1
        when: {share: {point: cam.status, eq: offline}, ge: 0.5}
        for: 60s
"""


def cameras(offline: set[int]) -> dict[str, str]:
    return {f"cam.status[{i}]": "offline" if i in offline else "online" for i in range(1, 5)}


def test_an_escalation_step_s_duration_ends_on_a_tick(tmp_path: Path) -> None:
    """The step's own ``for`` is a deadline: escalated by a tick, not by the next poll."""
    engine = box_engine(tmp_path, CAMERAS_ESCALATING)
    raised = engine.evaluate(poll("box", 0, cameras({1, 2, 3})))
    assert [(c.active, c.level) for c in raised] == [(True, Level.L3)]
    assert ticks(engine, 1, 1) == []  # the raise is looked at once more
    assert engine.next_deadline("box") == T0 + timedelta(seconds=60)
    assert ticks(engine, 2, 59) == []
    escalated = ticks(engine, 60, 60)
    assert [(c.active, c.level, c.since) for c in escalated] == [(True, Level.L1, T0)]
    assert ticks(engine, 61, 600) == []


ARMED_AT_NIGHT = """
  - code: panel.disarmed_out_of_hours
    type: check
    title: "{device} is disarmed out of hours"
    level: 2
    when:
      all:
        - {point: armed, eq: disarmed}
        - {during: {from: "09:05", to: "17:00", tz: UTC}}
"""


def test_a_schedule_window_opens_on_a_tick(tmp_path: Path) -> None:
    """A window that starts while nothing is polled: the rule raises at its first minute
    (T0 is 09:00 UTC) and clears when it closes, on ticks alone."""
    engine = box_engine(tmp_path, ARMED_AT_NIGHT)
    assert engine.evaluate(poll("box", 0, {"armed": "disarmed"})) == []
    assert ticks(engine, 1, 299) == []
    opened = ticks(engine, 300, 300)
    assert [(c.code, c.active) for c in opened] == [("panel.disarmed_out_of_hours", True)]
    closing = 8 * 3600  # 17:00
    assert ticks(engine, closing - 60, closing - 1, every=59) == []
    assert [c.active for c in ticks(engine, closing, closing)] == [False]


STALE_OVER_SITE = """
  - code: heartbeats.stale
    type: check
    title: "{count} devices of the site send no heartbeat"
    level: 2
    when: {count: {point: cam.status, of: age, gt: 300}, over: site, ge: 2}
"""


def test_a_count_over_the_site_of_ages_crosses_on_a_tick(tmp_path: Path) -> None:
    """A count over the site whose part reads an age changes with time alone: each
    device's own count is kept per time, so ticks see the readings age."""
    devices = [{"id": f"box{n}", "kind": "nvr", "profile": "box"} for n in (1, 2)]
    engine = box_engine(tmp_path, STALE_OVER_SITE, devices)
    for at, device in ((0, "box1"), (0, "box2"), (60, "box1"), (60, "box2")):
        assert engine.evaluate(poll(device, at, {"cam.status[1]": "online"})) == []
    # The cameras' status is gone from both devices' polls from 90 s on.
    for device in ("box1", "box2"):
        assert engine.evaluate(poll(device, 90, {"cam.name[1]": "Cam 1"})) == []
    assert ticks(engine, 91, 360) == []  # the last reading, at 60 s, is 300 s old
    raised = ticks(engine, 361, 361)
    assert sorted((c.device, c.code, c.active) for c in raised) == [
        ("box1", "heartbeats.stale", True),
        ("box2", "heartbeats.stale", True),
    ]
