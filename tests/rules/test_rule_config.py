"""Rules as data: strict models, and checks of rules against their profile."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from gateway.config import ConfigError, load_config
from gateway.config.profile import Profile
from gateway.config.rule_checks import rule_problems
from gateway.config.rules import CheckRule, TimeWindow, fault_codes
from gateway.rules import RuleConfigError, RuleEngine
from tests.rules.box import BOX, box_engine
from tests.rules.harness import write_site


def profile(rules: str) -> Profile:
    data = yaml.safe_load(BOX + "rules:\n" + rules)
    return Profile.model_validate({"id": "box", **data})


def problems(rules: str) -> list[str]:
    return [why for _loc, why in rule_problems(profile(rules))]


def rule(text: str) -> CheckRule:
    return CheckRule.model_validate(yaml.safe_load(text))


def test_a_full_rule_parses_with_durations_and_nested_expressions() -> None:
    parsed = rule("""
type: check
code: cameras.offline
title: "{count} cameras offline"
level: 3
when: {count: {all: [{point: cam.status, eq: offline}, {not: {point: cam.name, eq: spare}}]}, ge: 1}
for: 2m
clear: {count: {point: cam.status, eq: offline}, eq: 0}
clear_for: 90s
escalate:
  - {level: 1, when: {share: {point: cam.status, eq: offline}, ge: 0.5}, for: 1m}
flapping: {code: cameras.flapping, title: flapping}
""")
    assert (parsed.for_, parsed.clear_for, parsed.escalate[0].for_) == (120.0, 90.0, 60.0)
    assert parsed.flapping is not None and parsed.flapping.transitions == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "{type: check, code: a, title: t, level: 3, when: {point: temp, gt: 1}, extra: 1}",
            "Extra inputs",
        ),
        ("{type: check, code: a, title: t, level: 3, when: {point: temp}}", "at least one of"),
        (
            "{type: check, code: a, title: t, level: 3, when: {pointe: temp, gt: 1}}",
            "an expression is",
        ),
        (
            "{type: check, code: a, title: t, level: 3, when: {point: temp, of: age, eq: old}}",
            "is a number",
        ),
        (
            "{type: check, code: a, title: t, level: 3, when: {share: {point: x, eq: 1}, ge: 50}}",
            "less than or equal to 1",
        ),
        (
            "{type: check, code: a, title: t, level: 5, when: {point: temp, gt: 1}}",
            "Input should be",
        ),
        (
            "{type: check, code: a, title: t, level: 3, when: {point: temp, gt: 1}, for: soon}",
            "not a duration",
        ),
        (
            "{type: check, code: a, title: t, level: 3, when: {point: t, gt: 1}, escalate: [{level: 3, when: {point: t, gt: 2}}]}",
            "not more severe",
        ),
        (
            "{type: check, code: A, title: t, level: 3, when: {point: temp, gt: 1}}",
            "should match pattern",
        ),
    ],
)
def test_strict_models_reject_mistakes(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        rule(text)


def test_time_windows_need_a_real_zone_and_clock_times() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        TimeWindow.model_validate({"from": "08:00", "to": "18:00", "tz": "Mars/Base"})
    with pytest.raises(ValidationError, match="not a time of day"):
        TimeWindow.model_validate({"from": "8:00", "to": "18:00", "tz": "UTC"})


def test_rules_are_checked_against_the_profile() -> None:
    assert problems("""
  - {type: check, code: a, title: "{device} {temp}", level: 3, when: {point: tmp, gt: 1}}
  - {type: check, code: b, title: t, level: 3, when: {point: cam.status, eq: offline}}
  - {type: check, code: c, title: t, level: 3, table: cam, when: {point: disk.state, eq: failed}}
  - {type: check, code: d, title: t, level: 3, table: nope, when: {point: temp, gt: 1}}
  - {type: check, code: e, title: "{bogus} {count}", level: 3, when: {point: temp, gt: 1}}
  - {type: check, code: f, title: t, level: 3, when: {count: {all: [{point: cam.status, eq: offline}, {point: disk.state, eq: failed}]}, ge: 1}}
  - {type: check, code: g, title: t, level: 3, when: {count: {count: {point: cam.status, eq: offline}, ge: 1}, ge: 1}}
  - {type: check, code: h, title: t, level: 3, when: {count: {point: cam.status, eq: offline}, table: disk, ge: 1}}
  - {type: check, code: i, title: t, level: 3, when: {point: temp, gt: 1}, flapping: {code: a, title: t}}
  - {type: check, code: j, title: t, level: 3, table: disk, when: {point: disk.free, per: disk.sise, lt: 0.1}}
""") == [
        "rule a: no point 'tmp' in the profile",
        "rule b: cam.status is a column of table 'cam': in a device-level rule use it inside count or share",
        "rule c: disk.state is a column of table 'disk': in a rule per 'cam' use it inside count or share",
        "rule d: no table 'nope'",
        "rule e: title: unknown field {bogus}",
        "rule e: title: {count} needs a count or share in 'when'",
        "rule f: count and share need 'table:' when their points are not columns of one table",
        "rule g: count and share cannot be nested",
        "rule h: count over 'disk' reads columns of cam",
        "fault code a is used twice",
        "rule j: no point 'disk.sise' in the profile",
    ]


def test_poll_and_trap_readings_are_known_names() -> None:
    assert problems("""
  - {type: check, code: a, title: "{rtt} ms", level: 3, when: {point: rtt, gt: 100}}
  - {type: check, code: b, title: t, level: 3, table: cam, when: {point: trap.boom, of: age, lt: 60}}
  - {type: check, code: c, title: t, level: 3, when: {point: trap.bang, of: age, lt: 60}}
""") == ["rule c: no point 'trap.bang' in the profile"]


def test_fault_codes_include_flapping_codes() -> None:
    rules = profile("""
  - {type: unreachable, code: device.unreachable, title: t, level: 2, flapping: {code: device.flapping, title: f}}
  - {type: check, code: hot, title: t, level: 3, when: {point: temp, gt: 1}}
""").rules
    assert fault_codes(rules) == ["device.unreachable", "device.flapping", "hot"]


def test_rules_that_do_not_fit_are_refused_with_their_line(tmp_path: Path) -> None:
    """check-config (load_config) reports them at FILE:LINE before any engine is built."""
    with pytest.raises(ConfigError) as caught:
        box_engine(
            tmp_path, "  - {type: check, code: a, title: t, level: 3, when: {point: tmp, gt: 1}}\n"
        )
    (problem,) = caught.value.problems
    assert problem.file.name == "box.yaml"
    assert "rule a: no point 'tmp'" in problem.message


def test_the_engine_refuses_rules_that_do_not_fit(tmp_path: Path) -> None:
    """The engine's own check, for a config that did not come through load_config."""
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "box.yaml").write_text(
        BOX + "rules:\n  - {type: check, code: a, title: t, level: 3, when: {point: temp, gt: 1}}\n"
    )
    good = load_config(
        write_site(
            tmp_path, [{"id": "box", "kind": "nvr", "profile": "box"}], [tmp_path / "profiles"]
        )
    )
    profile = good.profiles["box"]
    rule = profile.rules[0]
    assert isinstance(rule, CheckRule)
    bad_rule = rule.model_copy(update={"when": rule.when.model_copy(update={"point": "tmp"})})
    bad_profile = profile.model_copy(update={"rules": [bad_rule]})
    bad = dataclasses.replace(good, profiles={"box": bad_profile})
    with pytest.raises(RuleConfigError, match="no point 'tmp'"):
        RuleEngine(bad)


def test_check_config_names_the_file_and_line_of_a_bad_rule(tmp_path: Path) -> None:
    rules = """
  - code: ok
    type: check
    title: fine
    level: 3
    when: {point: temp, gt: 70}
  - code: bad
    type: check
    title: wrong
    level: 3
    when: {point: temp, gt: 70}
    clear_after: 3
"""
    with pytest.raises(ConfigError) as caught:
        box_engine(tmp_path, rules)
    (problem,) = caught.value.problems
    assert problem.file.name == "box.yaml"
    text = (tmp_path / "profiles" / "box.yaml").read_text().splitlines()
    first = text.index("  - code: bad") + 1
    assert first <= problem.line <= len(text)  # within the bad rule, not the good one
    assert "unknown key" in problem.message
