"""Rules over tables: one condition per instance, counts and shares, escalation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from gateway.model import Level, Value
from gateway.rules import RuleEngine
from tests.rules.box import box_engine
from tests.rules.harness import T0, poll

CAMERAS = {f"cam.name[{i}]": f"Cam {i}" for i in range(1, 6)}


def cams(offline: set[int], removed: frozenset[int] = frozenset()) -> dict[str, Value]:
    values: dict[str, Value] = {k: v for k, v in CAMERAS.items() if int(k[9:-1]) not in removed}
    for i in range(1, 6):
        if i not in removed:
            values[f"cam.status[{i}]"] = "offline" if i in offline else "online"
    return values


PER_CAMERA = """
  - code: camera.offline
    type: check
    table: cam
    title: "{label} (channel {instance}) of {device} is {cam.status}"
    level: 3
    when: {point: cam.status, eq: offline}
    for: 60s
"""


def test_one_condition_per_instance_with_its_label(tmp_path: Path) -> None:
    engine = box_engine(tmp_path, PER_CAMERA)
    out = []
    for at, offline in [
        (0, set()),
        (30, {2, 4}),
        (60, {2, 4}),
        (90, {2, 4}),
        (120, {4}),
        (150, {4}),
    ]:
        out += [
            (at, c.instance, c.active, c.title)
            for c in engine.evaluate(poll("box", at, cams(offline)))
        ]
    assert out == [
        (90, "2", True, "Cam 2 (channel 2) of box is offline"),
        (90, "4", True, "Cam 4 (channel 4) of box is offline"),
        (120, "2", False, "Cam 2 (channel 2) of box is offline"),
    ]
    assert [(c.instance, c.active) for c in engine.active()] == [("4", True)]
    assert engine.active("box") == engine.active()
    assert engine.active("elsewhere") == []


def test_an_instance_that_leaves_its_table_takes_its_condition_with_it(tmp_path: Path) -> None:
    engine = box_engine(tmp_path, PER_CAMERA)
    for at in (0, 30, 60):
        engine.evaluate(poll("box", at, cams({4})))
    assert [c.instance for c in engine.active()] == ["4"]
    gone = engine.evaluate(poll("box", 90, cams(set(), removed=frozenset({4}))))
    assert [(c.instance, c.active) for c in gone] == [("4", False)]
    assert engine.active() == []


CAMERAS_OFFLINE = """
  - code: cameras.offline
    type: check
    title: "{count} of {total} cameras of {device} offline ({share}): {instances}"
    level: 3
    when: {count: {point: cam.status, eq: offline}, ge: 1}
    escalate:
      - level: 1
        when: {share: {point: cam.status, eq: offline}, ge: 0.5}
        for: 60s
"""


def test_escalation_is_the_same_condition_with_a_new_level(tmp_path: Path) -> None:
    engine = box_engine(tmp_path, CAMERAS_OFFLINE)
    timeline = [(0, set()), (30, {1}), (60, {1, 2, 3}), (90, {1, 2, 3}), (120, {1, 2, 3}),
                (150, {1}), (180, set())]  # fmt: skip
    out = []
    for at, offline in timeline:
        out += [(at, c) for c in engine.evaluate(poll("box", at, cams(offline)))]
    assert [(at, c.active, c.level) for at, c in out] == [
        (30, True, Level.L3),  # one camera
        (120, True, Level.L1),  # 3 of 5 for 60 s: escalated
        (150, True, Level.L3),  # back to one: de-escalated
        (180, False, Level.L3),
    ]
    assert len({c.key for _at, c in out}) == 1  # one incident throughout
    assert {c.since for _at, c in out[:3]} == {T0 + timedelta(seconds=30)}
    assert out[1][1].title == "3 of 5 cameras of box offline (60%): Cam 1, Cam 2, Cam 3"
    assert [r.instance for r in out[1][1].evidence] == ["1", "2", "3"]


def test_a_site_override_sets_the_base_level_and_escalation_still_applies(tmp_path: Path) -> None:
    devices = [{"id": "box", "kind": "nvr", "profile": "box", "levels": {"cameras.offline": 4}}]
    engine = box_engine(tmp_path, CAMERAS_OFFLINE, devices)
    levels = []
    for at, offline in [(0, {1}), (30, {1, 2, 3}), (90, {1, 2, 3})]:
        levels += [c.level for c in engine.evaluate(poll("box", at, cams(offline)))]
    assert levels == [Level.L4, Level.L1]


def test_a_rule_that_starts_escalated_is_raised_once_at_its_level(tmp_path: Path) -> None:
    rules = CAMERAS_OFFLINE.replace("        for: 60s\n", "")
    engine = box_engine(tmp_path, rules)
    out = engine.evaluate(poll("box", 0, cams({1, 2, 3, 4})))
    assert [(c.active, c.level) for c in out] == [(True, Level.L1)]


def test_share_of_no_instances_is_unknown(tmp_path: Path) -> None:
    rules = """
  - code: all.offline
    type: check
    title: all offline
    level: 1
    when: {share: {point: cam.status, eq: offline}, ge: 1.0}
"""
    engine: RuleEngine = box_engine(tmp_path, rules)
    assert engine.evaluate(poll("box", 0, {})) == []
    assert [c.level for c in engine.evaluate(poll("box", 30, {"cam.status[1]": "offline"}))] == [
        Level.L1
    ]


def test_device_level_rule_can_mix_scalars_and_a_count(tmp_path: Path) -> None:
    rules = """
  - code: hot.and.failing
    type: check
    title: "{device}: {count} disks failed at {temp} C"
    level: 2
    when:
      all:
        - {point: temp, gt: 60}
        - {count: {point: disk.state, eq: failed}, ge: 1}
"""
    engine = box_engine(tmp_path, rules)
    assert engine.evaluate(poll("box", 0, {"temp": 70, "disk.state[1]": "normal"})) == []
    out = engine.evaluate(poll("box", 30, {"temp": 70, "disk.state[1]": "failed"}))
    assert [c.title for c in out] == ["box: 1 disks failed at 70 C"]
    assert {r.point for r in out[0].evidence} == {"temp", "disk.state"}


def test_seen_remembers_a_value_per_instance(tmp_path: Path) -> None:
    rules = """
  - code: camera.lost
    type: check
    table: cam
    title: "camera {label} lost"
    level: 3
    when:
      all:
        - {point: cam.status, eq: offline}
        - {point: cam.status, seen: online}
"""
    engine = box_engine(tmp_path, rules)
    # Camera 3 was never online (an unused channel): never a fault. Camera 1 was.
    assert engine.evaluate(poll("box", 0, cams({3}))) == []
    out = engine.evaluate(poll("box", 30, cams({1, 3})))
    assert [c.instance for c in out] == ["1"]


def test_a_value_per_another_is_a_fraction(tmp_path: Path) -> None:
    rules = """
  - code: disk.nearly_full
    type: check
    table: disk
    title: "disk {instance}: {disk.free} MB free"
    level: 3
    when: {point: disk.free, per: disk.size, lt: 0.05}
"""
    engine = box_engine(tmp_path, rules)
    disks: dict[str, Value] = {"disk.size[1]": 4000, "disk.size[2]": 0, "disk.free[2]": 0}
    assert engine.evaluate(poll("box", 0, {**disks, "disk.free[1]": 1000})) == []
    out = engine.evaluate(poll("box", 30, {**disks, "disk.free[1]": 150}))
    # Disk 2 reports no size: a fraction of nothing is unknown, not "full".
    assert [(c.instance, c.title) for c in out] == [("1", "disk 1: 150 MB free")]
    assert {r.point for r in out[0].evidence} == {"disk.free", "disk.size"}
