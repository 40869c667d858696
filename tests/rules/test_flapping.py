"""Flapping: many transitions in a window become one condition until things are stable."""

from __future__ import annotations

from pathlib import Path

from tests.rules.box import box_engine
from tests.rules.harness import down, poll

FLAPPY = """
  - code: device.unreachable
    type: unreachable
    title: "{device} unreachable"
    level: 1
    raise_after: 1
    clear_after: 1
    flapping: {code: device.flapping, title: "{device} keeps dropping off", transitions: 4, window: 10m, stable: 5m}
"""


def run(tmp_path: Path, pattern: str, rules: str = FLAPPY) -> list[tuple[int, str, bool, int]]:
    """One poll per character every 30 s: '+' answered, '-' did not."""
    engine = box_engine(tmp_path, rules)
    out = []
    for n, mark in enumerate(pattern):
        result = poll("box", 30 * n) if mark == "+" else down("box", 30 * n)
        out += [(30 * n, c.code, c.active, int(c.level)) for c in engine.evaluate(result)]
    return out


def test_flapping_replaces_the_churn_and_clears_after_a_stable_window(tmp_path: Path) -> None:
    #              0 30 60 90 120 150 180 210 ... stays down
    got = run(tmp_path, "+-+-+-+" + "-" * 12)
    assert got == [
        (30, "device.unreachable", True, 1),
        (60, "device.unreachable", False, 1),
        (90, "device.unreachable", True, 1),
        # The 4th transition (a clear at 120 s): flapping starts and stands for the
        # incident; the device's own condition is cleared with it.
        (120, "device.flapping", True, 2),
        (120, "device.unreachable", False, 1),
        # 150..180 s: raise, clear, and 210 s: raise again, none emitted on their own.
        # No transition since 210 s for 5 min: flapping ends; the device is down, so its
        # own condition is raised anew.
        (510, "device.flapping", False, 2),
        (510, "device.unreachable", True, 1),
    ]


def test_a_raise_that_starts_flapping_is_not_emitted(tmp_path: Path) -> None:
    rules = FLAPPY.replace("transitions: 4", "transitions: 3")
    got = run(tmp_path, "+-+-+" + "+" * 12, rules)
    assert got == [
        (30, "device.unreachable", True, 1),
        (60, "device.unreachable", False, 1),
        # The 3rd transition is a raise (90 s): flapping starts instead.
        (90, "device.flapping", True, 2),
        # Last transition (a clear) at 120 s; 5 min later it is stable and up: nothing else.
        (420, "device.flapping", False, 2),
    ]


def test_transitions_outside_the_window_do_not_count(tmp_path: Path) -> None:
    # Down for 2.5 min, up for 3.5 min: never 4 transitions within 3 min.
    rules = FLAPPY.replace("window: 10m", "window: 3m")
    pattern = ("+-" + "-" * 4 + "+" * 6) * 3
    got = run(tmp_path, pattern, rules)
    assert {code for _at, code, _a, _l in got} == {"device.unreachable"}
    assert len(got) == 6


def test_flapping_of_one_instance_is_its_own_condition(tmp_path: Path) -> None:
    rules = """
  - code: camera.offline
    type: check
    table: cam
    title: "camera {label} offline"
    level: 3
    when: {point: cam.status, eq: offline}
    flapping: {code: camera.flapping, title: "camera {label} keeps dropping", transitions: 4, window: 10m, stable: 5m}
"""
    engine = box_engine(tmp_path, rules)
    out = []
    states = ["online", "offline", "online", "offline", "online", "online"]
    for n, state in enumerate(states):
        values = {"cam.status[1]": "online", "cam.status[2]": state, "cam.name[2]": "Gate"}
        out += [
            (30 * n, c.code, c.instance, c.active)
            for c in engine.evaluate(poll("box", 30 * n, values))
        ]
    out += [(420, c.code, c.instance, c.active) for c in engine.tick(poll("box", 420).ts)]
    assert out == [
        (30, "camera.offline", "2", True),
        (60, "camera.offline", "2", False),
        (90, "camera.offline", "2", True),
        (120, "camera.flapping", "2", True),
        (120, "camera.offline", "2", False),
        (420, "camera.flapping", "2", False),  # last transition at 120 s, stable 5 min
    ]
    assert engine.active() == []
