"""Rules of type ``absent``: an application behind the host's agent stopped."""

from __future__ import annotations

from pathlib import Path

import yaml

from gateway.config.profile import Profile
from gateway.config.rule_checks import rule_problems
from gateway.model import Quality, Reading
from gateway.poller import PollResult
from tests.rules.box import BOX, box_engine
from tests.rules.harness import down, poll

ABSENT_RULE = """
  - code: service.down
    type: absent
    points: [temp, uptime]
    title: "The application on {name} stopped"
    level: 1
    raise_after: 2
    clear_after: 1
"""


def problems(rules: str) -> list[str]:
    data = yaml.safe_load(BOX + "rules:\n" + rules)
    return [why for _loc, why in rule_problems(Profile.model_validate({"id": "box", **data}))]


def absent(device: str, at: float, points: tuple[str, ...], **good: float) -> PollResult:
    """A poll in which ``points`` are absent (noSuchObject) and ``good`` answered."""
    result = poll(device, at, good)
    ts = result.ts
    gone = tuple(Reading(device, p, None, ts, quality=Quality.ABSENT) for p in points)
    return PollResult(device, ts, True, result.readings + gone)


def test_points_must_be_scalars_read_over_snmp() -> None:
    column = ABSENT_RULE.replace("[temp, uptime]", "[temp, cam.status]")
    assert problems(column) == [
        "rule service.down: no scalar point 'cam.status' in the profile"
        " (columns, bits and rates do not count)"
    ]
    assert problems(ABSENT_RULE) == []


def test_every_point_absent_on_answered_polls_raises_and_one_back_clears(tmp_path: Path) -> None:
    engine = box_engine(tmp_path, ABSENT_RULE)
    assert engine.evaluate(absent("box", 0, ("temp", "uptime"))) == []
    raised = engine.evaluate(absent("box", 30, ("temp", "uptime")))
    assert [(c.code, c.level, c.active) for c in raised] == [("service.down", 1, True)]
    assert {r.point: r.quality for r in raised[0].evidence} == {
        "reachable": Quality.GOOD, "temp": Quality.ABSENT, "uptime": Quality.ABSENT,
    }  # fmt: skip
    # One of them answering is the application answering: it is back.
    cleared = engine.evaluate(absent("box", 60, ("uptime",), temp=20))
    assert [(c.code, c.active) for c in cleared] == [("service.down", False)]


def test_polls_that_tell_nothing_start_the_count_over(tmp_path: Path) -> None:
    engine = box_engine(tmp_path, ABSENT_RULE)
    assert engine.evaluate(absent("box", 0, ("temp", "uptime"))) == []
    assert engine.evaluate(down("box", 30)) == []  # nothing answered: nothing known
    assert engine.evaluate(absent("box", 60, ("temp", "uptime"))) == []
    assert engine.evaluate(absent("box", 90, ("temp",))) == []  # uptime not read at all
    assert engine.evaluate(absent("box", 120, ("temp", "uptime"))) == []
    assert engine.evaluate(absent("box", 150, ("temp", "uptime")))[0].active is True
