"""Properties of the engine over generated timelines (hypothesis)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.config import LoadedConfig, load_config
from gateway.model import Condition, Level, Value
from gateway.poller import PollResult
from gateway.rules import RuleEngine
from tests.examples import examples
from tests.rules.box import BOX
from tests.rules.harness import T0, down, poll, write_site

RULES = """
  - code: device.unreachable
    type: unreachable
    title: "{device} unreachable"
    level: 2
    raise_after: 2
    clear_after: 2
    flapping: {code: device.flapping, title: flapping, transitions: 4, window: 5m, stable: 2m}
  - code: temp.high
    type: check
    title: hot
    level: 3
    when: {point: temp, gt: 70}
    for: 60s
    clear: {point: temp, lt: 65}
    clear_for: 30s
    flapping: {code: temp.flapping, title: flapping, transitions: 4, window: 10m, stable: 2m}
  - code: camera.offline
    type: check
    table: cam
    title: "camera {label} offline"
    level: 3
    when: {point: cam.status, eq: offline}
    for: 45s
  - code: cameras.offline
    type: check
    title: "{count} cameras offline"
    level: 3
    when: {count: {point: cam.status, eq: offline}, ge: 2}
    for: 30s
    escalate:
      - {level: 1, when: {share: {point: cam.status, eq: offline}, ge: 0.6}, for: 20s}
"""
DEVICES = ("a", "b", "c")
CAMERAS = (1, 2, 3)
HEALTHY: dict[str, Value] = {"temp": 40, **{f"cam.status[{i}]": "online" for i in CAMERAS}}
# Long enough for every clear duration and flapping's stable window, with polls every 40 s.
SETTLE = 12


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> LoadedConfig:
    directory: Path = tmp_path_factory.mktemp("props")
    (directory / "profiles").mkdir()
    (directory / "profiles" / "box.yaml").write_text(BOX + "rules:\n" + RULES)
    devices = [{"id": d, "kind": "nvr", "profile": "box"} for d in DEVICES]
    return load_config(write_site(directory, devices, [directory / "profiles"]))


@dataclass(frozen=True)
class Poll:
    at: float
    values: Mapping[str, Value] | None  # None: the device did not answer

    def result(self, device: str) -> PollResult:
        return down(device, self.at) if self.values is None else poll(device, self.at, self.values)


states = st.fixed_dictionaries(
    {
        "temp": st.sampled_from([None, 50, 66, 68, 75, 90]),
        **{f"cam.status[{i}]": st.sampled_from(["online", "offline"]) for i in CAMERAS},
    }
)
answers = st.one_of(st.none(), states, states, states)  # mostly answered


@st.composite
def timelines(draw: st.DrawFn, max_polls: int = 40) -> list[Poll]:
    gaps = draw(st.lists(st.integers(1, 40), min_size=1, max_size=max_polls))
    at, out = 0.0, []
    for gap in gaps:
        at += gap
        out.append(Poll(at, draw(answers)))
    return out


def feed(engine: RuleEngine, device: str, timeline: list[Poll]) -> list[tuple[float, Condition]]:
    return [(p.at, c) for p in timeline for c in engine.evaluate(p.result(device))]


def raises(
    changes: list[tuple[float, Condition]],
) -> Iterator[tuple[float, Condition, Level | None]]:
    """Each change with the level that was active for its key before (None: not active)."""
    active: dict[tuple[str, str, str], Level] = {}
    for at, condition in changes:
        yield at, condition, active.get(condition.key)
        if condition.active:
            active[condition.key] = condition.level
        else:
            active.pop(condition.key, None)


Predicate = Callable[[Mapping[str, Value]], bool | None]


def held_for(
    timeline: list[Poll], predicate: Predicate, seconds: float, until: float, strict: bool
) -> bool:
    """Did ``predicate`` hold at every answered poll of a span of ``seconds`` without an
    outage, ending at ``until`` (strict) or at any time up to it?"""
    start: float | None = None
    for p in timeline:
        if p.at > until:
            break
        holds = p.values is not None and predicate(p.values) is True
        if not holds:
            start = None
            continue
        start = p.at if start is None else start
        if p.at - start >= seconds and (not strict or p.at == until):
            return True
    return False


def offline(values: Mapping[str, Value], camera: str | None = None) -> int:
    cameras = [camera] if camera else [str(i) for i in CAMERAS]
    return sum(values[f"cam.status[{c}]"] == "offline" for c in cameras)


def outage_holds(answered: list[bool]) -> bool:
    """Two polls in a row went unanswered (raise_after) and no two in a row were answered
    since (clear_after). Usually the raise comes at the second unanswered poll; a flapping
    device's outage is held back and told once it is stable, which may be at a poll that
    was answered: one answer does not end an outage."""
    downs = [i for i in range(1, len(answered)) if not answered[i - 1] and not answered[i]]
    if not downs:
        return False
    since = answered[downs[-1] + 1 :]
    return not any(a and b for a, b in itertools.pairwise(since))


def one_offline(camera: str) -> Predicate:
    return lambda values: offline(values, camera) == 1


def hot(values: Mapping[str, Value]) -> bool | None:
    temp = values["temp"]
    return None if not isinstance(temp, int | float) else temp > 70


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(timeline=timelines())
def test_no_condition_is_raised_unless_its_rule_held_for_its_duration(
    config: LoadedConfig, timeline: list[Poll]
) -> None:
    engine = RuleEngine(config)
    for at, condition, before in raises(feed(engine, "a", timeline)):
        if not condition.active:
            continue
        code = condition.code
        if code == "device.unreachable" and before is None:
            answered = [p.values is not None for p in timeline if p.at <= at]
            assert outage_holds(answered), answered
        elif code == "temp.high" and before is None:
            # Flapping may hold it back and emit it later: it still held for 60 s first.
            assert held_for(timeline, hot, 60, at, strict=False)
        elif code == "camera.offline":
            assert held_for(timeline, one_offline(condition.instance), 45, at, strict=True)
        elif code == "cameras.offline" and before is None:
            assert held_for(timeline, lambda v: offline(v) >= 2, 30, at, strict=True)
        if code == "cameras.offline" and condition.level == Level.L1 and before != Level.L1:
            assert held_for(timeline, lambda v: offline(v) >= 2, 0, at, strict=True)
            assert held_for(timeline, lambda v: offline(v) / 3 >= 0.6, 20, at, strict=False)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(timeline=timelines())
def test_once_readings_stay_healthy_every_condition_clears(
    config: LoadedConfig, timeline: list[Poll]
) -> None:
    engine = RuleEngine(config)
    end = timeline[-1].at
    healthy = [Poll(end + 40 * n, dict(HEALTHY)) for n in range(1, SETTLE + 1)]
    changes = feed(engine, "a", timeline + healthy)
    assert engine.active() == []
    still = {c.key for _at, c, _before in raises(changes) if c.active} - {
        c.key for _at, c in changes if not c.active
    }
    assert not still
    # Every emitted clear follows a raise of the same key: nothing clears twice.
    for _at, condition, before in raises(changes):
        assert condition.active or before is not None


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    per_device=st.lists(timelines(max_polls=20), min_size=len(DEVICES), max_size=len(DEVICES)),
    seed=st.integers(0, 2**32 - 1),
)
def test_output_never_depends_on_the_order_devices_are_polled(
    config: LoadedConfig, per_device: list[list[Poll]], seed: int
) -> None:
    alone = {}
    for device, timeline in zip(DEVICES, per_device, strict=True):
        alone[device] = feed(RuleEngine(config), device, timeline)
    # Interleave the devices' polls at random, each device's own polls kept in order.
    queues = {d: list(t) for d, t in zip(DEVICES, per_device, strict=True)}
    rng = random.Random(seed)
    engine = RuleEngine(config)
    together: dict[str, list[tuple[float, Condition]]] = {d: [] for d in DEVICES}
    while any(queues.values()):
        device = rng.choice([d for d, q in queues.items() if q])
        step = queues[device].pop(0)
        for condition in engine.evaluate(step.result(device)):
            assert condition.device == device
            together[device].append((step.at, condition))
    assert together == alone


def test_ticks_in_time_order_give_the_same_conditions_as_any_interleaving(
    config: LoadedConfig,
) -> None:
    """Ticks between polls of other devices change nothing a device's own polls decide."""
    timeline = [Poll(30.0 * n, {**HEALTHY, "temp": 90}) for n in range(6)]
    plain = feed(RuleEngine(config), "a", timeline)
    engine = RuleEngine(config)
    ticked: list[tuple[float, Condition]] = []
    for p in timeline:
        ticked += [(p.at, c) for c in engine.tick(T0 + timedelta(seconds=p.at - 1))]
        ticked += [(p.at, c) for c in engine.evaluate(p.result("a"))]
    assert ticked == plain
