"""Check rules on one device: thresholds, states, rates, staleness, clocks, durations."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from gateway.model import Condition, Level
from gateway.rules import RuleEngine
from tests.rules.box import box_engine
from tests.rules.harness import T0, down, poll, trap


def changes(
    engine: RuleEngine, timeline: list[tuple[float, dict[str, object] | None]]
) -> list[tuple[float, str, bool, int]]:
    """Feed polls (None: the device did not answer); (time, code, active, level) out."""
    out = []
    for at, values in timeline:
        result = down("box", at) if values is None else poll("box", at, values)  # type: ignore[arg-type]
        out += [(at, c.code, c.active, int(c.level)) for c in engine.evaluate(result)]
    return out


HOT = """
  - code: temp.high
    type: check
    title: "{name} is at {temp:.1f} C"
    level: 3
    when: {point: temp, gt: 70}
    for: 60s
    clear: {point: temp, lt: 65}
    clear_for: 30s
"""


def test_raised_only_after_holding_for_its_duration(tmp_path: Path) -> None:
    engine = box_engine(tmp_path, HOT)
    temps = [60, 75, 75, 60, 75, 75, 75, 75]
    got = changes(engine, [(30 * i, {"temp": t}) for i, t in enumerate(temps)])
    # 75 from 30 s, but 60 at 90 s restarts the clock; 75 again from 120 s -> 180 s.
    assert got == [(180, "temp.high", True, 3)]


def test_hysteresis_band_holds_and_clear_needs_its_own_duration(tmp_path: Path) -> None:
    engine = box_engine(tmp_path, HOT)
    temps = [75, 75, 75, 68, 68, 64, 66, 64, 64, 71]
    got = changes(engine, [(30 * i, {"temp": t}) for i, t in enumerate(temps)])
    # Raised at 60 s. 68 is inside the band (not > 70, not < 65): stays raised.
    # 64 at 150 s, 66 at 180 s restarts the clear clock; 64 at 210 and 240 s -> cleared.
    # 71 at 270 s starts a new raise clock, not yet 60 s.
    assert got == [(60, "temp.high", True, 3), (240, "temp.high", False, 3)]


def test_title_and_evidence(tmp_path: Path) -> None:
    engine = box_engine(
        tmp_path, HOT, [{"id": "box", "kind": "nvr", "profile": "box", "name": "Lobby NVR"}]
    )
    raised = [c for i in range(3) for c in engine.evaluate(poll("box", 30 * i, {"temp": 72.25}))]
    assert len(raised) == 1
    assert raised[0].title == "Lobby NVR is at 72.2 C"
    assert [(r.point, r.value) for r in raised[0].evidence] == [("temp", 72.25)]
    assert raised[0].since == T0 + timedelta(seconds=60)
    assert engine.active() == raised


STATES = """
  - code: battery.bad
    type: check
    title: "battery {battery}"
    level: 3
    when: {point: battery, in: [low, depleted]}
  - code: mains.lost
    type: check
    title: "mains {mains}"
    level: 3
    when: {point: mains, ne: present}
  - code: both
    type: check
    title: "mains lost and battery weak"
    level: 1
    when:
      all:
        - {point: mains, eq: lost}
        - {point: battery, not_in: [normal]}
"""


def test_states_and_conjunction(tmp_path: Path) -> None:
    engine = box_engine(tmp_path, STATES)
    got = changes(
        engine,
        [
            (0, {"mains": "present", "battery": "normal"}),
            (30, {"mains": "lost", "battery": "normal"}),
            (60, {"mains": "lost", "battery": "low"}),
            (90, {"mains": "present", "battery": "low"}),
            (120, {"mains": "present", "battery": "normal"}),
        ],
    )
    assert got == [
        (30, "mains.lost", True, 3),
        (60, "battery.bad", True, 3),
        (60, "both", True, 1),
        (90, "mains.lost", False, 3),
        (90, "both", False, 1),
        (120, "battery.bad", False, 3),
    ]


def test_unknown_values_neither_raise_nor_clear(tmp_path: Path) -> None:
    engine = box_engine(tmp_path, HOT)
    # No temp reading at all, then a reading of bad quality (None): nothing is known.
    got = changes(engine, [(0, {}), (60, {"temp": None}), (120, {"temp": None})])
    assert got == []
    got = changes(
        engine,
        [(150, {"temp": 80}), (210, {"temp": 80}), (240, {"temp": None}), (400, {"temp": None})],
    )
    assert got == [(210, "temp.high", True, 3)]  # unknown at 240..400 s does not clear it


RATES = """
  - code: errors.rising
    type: check
    title: "errors at {errors.rate:.1f}/s"
    level: 3
    when: {point: errors.rate, gt: 1}
  - code: temp.climbing
    type: check
    title: "temperature climbing"
    level: 3
    when: {point: temp, of: rate, gt: 0.1}
  - code: rebooted
    type: check
    title: "{device} restarted"
    level: 4
    when: {point: uptime, of: change, lt: 0}
    clear_for: 10m
"""


def test_rates_changes_and_a_reboot_that_needs_no_outage(tmp_path: Path) -> None:
    engine = box_engine(tmp_path, RATES)
    got = changes(
        engine,
        [
            (0, {"errors.rate": 0.0, "temp": 40, "uptime": 1000.0}),
            (30, {"errors.rate": 2.5, "temp": 46, "uptime": 1030.0}),  # 6 C in 30 s = 0.2/s
            (60, {"errors.rate": 0.5, "temp": 46, "uptime": 5.0}),  # uptime went back: restart
            (90, {"errors.rate": 0.5, "temp": 46, "uptime": 35.0}),
            (690, {"errors.rate": 0.5, "temp": 46, "uptime": 635.0}),  # 10 min after 90 s
        ],
    )
    assert got == [
        (30, "errors.rising", True, 3),
        (30, "temp.climbing", True, 3),
        (60, "errors.rising", False, 3),
        (60, "temp.climbing", False, 3),
        (60, "rebooted", True, 4),
        (690, "rebooted", False, 4),
    ]


UNREACHABLE = """
  - code: device.unreachable
    type: unreachable
    title: "{device} unreachable"
    level: 2
    raise_after: 3
    clear_after: 2
"""


def test_a_restart_seen_as_missed_polls_is_a_reboot_but_no_rate_spans_them(
    tmp_path: Path,
) -> None:
    engine = box_engine(tmp_path, RATES + UNREACHABLE)
    got = changes(
        engine,
        [
            (0, {"errors.rate": 0.0, "temp": 40, "uptime": 1000.0}),
            (30, None),  # the device restarts: two polls fail (the rule wants three)
            (60, None),
            (90, {"errors.rate": 0.0, "temp": 52, "uptime": 20.0}),  # 12 C over the gap
            (120, {"errors.rate": 0.0, "temp": 52, "uptime": 50.0}),
        ],
    )
    # The uptime went back across the gap; the temperature's rate is not measured over it.
    assert got == [(90, "rebooted", True, 4)]


def test_no_change_is_measured_across_an_outage_that_raised_unreachable(
    tmp_path: Path,
) -> None:
    engine = box_engine(tmp_path, RATES + UNREACHABLE)
    got = changes(
        engine,
        [
            (0, {"uptime": 1000.0}),
            (30, None),
            (60, None),
            (90, None),
            (120, {"uptime": 20.0}),
            (150, {"uptime": 50.0}),
        ],
    )
    # The restart came with an outage: that is the unreachable rule's story.
    assert got == [(90, "device.unreachable", True, 2), (150, "device.unreachable", False, 2)]


STALE = """
  - code: heartbeat.stale
    type: check
    title: "no heartbeat for {device}"
    level: 2
    when: {point: heartbeat, of: age, gt: 300}
"""


def test_staleness_is_seen_by_ticks_without_readings(tmp_path: Path) -> None:
    engine = box_engine(tmp_path, STALE)
    assert engine.evaluate(poll("box", 0, {"heartbeat": 1})) == []
    assert engine.evaluate(poll("box", 30, {})) == []  # the poll does not carry it any more
    assert engine.tick(T0 + timedelta(seconds=300)) == []
    raised = engine.tick(T0 + timedelta(seconds=301))
    assert [(c.code, c.active) for c in raised] == [("heartbeat.stale", True)]
    cleared = engine.evaluate(poll("box", 330, {"heartbeat": 2}))
    assert [(c.code, c.active) for c in cleared] == [("heartbeat.stale", False)]


def test_a_point_never_read_is_stale_from_the_first_time_the_device_is_seen(tmp_path: Path) -> None:
    engine = box_engine(tmp_path, STALE)
    assert engine.tick(T0) == []
    assert [c.code for c in engine.tick(T0 + timedelta(seconds=301))] == ["heartbeat.stale"]


CLOCK = """
  - code: clock.off
    type: check
    title: "clock of {device} is off"
    level: 4
    when: {point: clock, of: skew, gt: 300}
"""


def test_clock_skew(tmp_path: Path) -> None:
    engine = box_engine(tmp_path, CLOCK)
    now = (T0 + timedelta(seconds=30)).timestamp()
    assert engine.evaluate(poll("box", 30, {"clock": now + 10})) == []
    off = engine.evaluate(poll("box", 60, {"clock": now - 3600}))
    assert [(c.code, c.active) for c in off] == [("clock.off", True)]


def test_device_down_freezes_its_other_rules_and_restarts_their_timers(tmp_path: Path) -> None:
    rules = (
        HOT
        + """
  - code: device.unreachable
    type: unreachable
    title: "{device} unreachable"
    level: 2
    raise_after: 2
    clear_after: 1
"""
    )
    engine = box_engine(tmp_path, rules)
    got = changes(
        engine,
        [
            (0, {"temp": 80}),
            (30, {"temp": 80}),
            (40, None),  # down before the 60 s: the pending raise starts over
            (50, None),
            (60, {"temp": 80}),
            (90, {"temp": 80}),
            (120, {"temp": 80}),
            (130, None),  # raised conditions stay raised while down
            (140, None),
            (400, None),
        ],
    )
    assert got == [
        (50, "device.unreachable", True, 2),
        (60, "device.unreachable", False, 2),
        (120, "temp.high", True, 3),
        (140, "device.unreachable", True, 2),
    ]
    assert engine.tick(T0 + timedelta(hours=1)) == []  # nothing clears while it is down


def test_a_trap_batch_is_judged_but_is_not_a_poll(tmp_path: Path) -> None:
    rules = """
  - code: device.unreachable
    type: unreachable
    title: "{device} unreachable"
    level: 2
    raise_after: 1
    clear_after: 1
  - code: boom
    type: check
    table: cam
    title: "boom on camera {label}"
    level: 3
    when: {point: trap.boom, of: age, lt: 60}
"""
    engine = box_engine(tmp_path, rules)
    assert engine.evaluate(poll("box", 0, {"cam.status[1]": "online", "cam.name[1]": "Gate"})) == []
    boom = engine.evaluate(trap("box", 10, {"trap.boom[1]": True}))
    assert [(c.code, c.instance, c.title) for c in boom] == [("boom", "1", "boom on camera Gate")]
    assert [c.code for c in engine.evaluate(down("box", 30))] == ["device.unreachable"]
    # A notification while polls fail does not say the device answers polls.
    assert engine.evaluate(trap("box", 40, {"trap.boom[1]": True})) == []
    assert [c.active for c in engine.active() if c.code == "device.unreachable"] == [True]
    back = engine.evaluate(poll("box", 130, {"cam.status[1]": "online"}))
    assert sorted((c.code, c.active) for c in back) == [
        ("boom", False),
        ("device.unreachable", False),
    ]


WINDOW = """
  - code: disarmed.off_hours
    type: check
    title: "{device} disarmed outside its schedule"
    level: 4
    when:
      all:
        - {point: armed, eq: disarmed}
        - not: {during: {from: "08:00", to: "19:00", days: [mon, tue, wed, thu, fri], tz: Asia/Shanghai}}
"""


def test_time_windows_in_local_time(tmp_path: Path) -> None:
    engine = box_engine(tmp_path, WINDOW)
    # T0 is Monday 09:00 UTC = 17:00 in Shanghai: inside the working hours.
    assert engine.evaluate(poll("box", 0, {"armed": "disarmed"})) == []
    # 19:00 Shanghai (11:00 UTC): outside; a tick is enough to notice.
    late = engine.tick(T0 + timedelta(hours=2))
    assert [(c.code, c.active) for c in late] == [("disarmed.off_hours", True)]
    # Tuesday 08:00 Shanghai = Tuesday 00:00 UTC: inside again.
    assert [c.active for c in engine.tick(T0 + timedelta(hours=15))] == [False]


def test_time_never_runs_backwards_for_a_device(tmp_path: Path) -> None:
    engine = box_engine(tmp_path, HOT)
    engine.evaluate(poll("box", 0, {"temp": 80}))
    assert engine.tick(T0 + timedelta(seconds=100)) != []
    late: list[Condition] = engine.evaluate(poll("box", 10, {"temp": 50}))  # an old timestamp
    assert late == []  # judged at 100 s: the clear clock starts there
    assert [c.since for c in engine.tick(T0 + timedelta(seconds=130))] == [
        T0 + timedelta(seconds=130)
    ]


def test_levels_by_role_and_site_override(tmp_path: Path) -> None:
    rules = """
  - code: hot
    type: check
    title: hot
    level: 3
    level_by_role: {core: 2}
    when: {point: temp, gt: 70}
"""
    devices: list[dict[str, Any]] = [
        {"id": "a", "kind": "nvr", "profile": "box"},
        {"id": "b", "kind": "nvr", "profile": "box", "role": "core"},
        {"id": "c", "kind": "nvr", "profile": "box", "role": "core", "levels": {"hot": 4}},
    ]
    engine = box_engine(tmp_path, rules, devices)
    levels = {c.device: c.level for d in "abc" for c in engine.evaluate(poll(d, 0, {"temp": 90}))}
    assert levels == {"a": Level.L3, "b": Level.L2, "c": Level.L4}


def test_titles_keep_literal_braces_and_show_unknown_values_as_question_marks(
    tmp_path: Path,
) -> None:
    rules = """
  - code: hot
    type: check
    title: "{{{device}}} at {temp:.1f} C, battery {battery}"
    level: 3
    when: {point: temp, gt: 70}
"""
    engine = box_engine(tmp_path, rules)
    (raised,) = engine.evaluate(poll("box", 0, {"temp": 80}))
    assert raised.title == "{box} at 80.0 C, battery ?"
