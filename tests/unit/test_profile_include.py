"""Profiles include shared parts (``include: [parts/x.yaml]``, docs/profiles.md, Parts):
the parts' entries come first, a problem anywhere is FILE:LINE in the file that has it,
and a missing part, a cycle, a name defined twice or a part with other sections are
refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import load_config
from gateway.config.load import BUILTIN_PROFILES, _load_profile
from tests.unit.test_config import problems_of

SITE = """\
site: {id: site-1, name: Test, customer: {name: C}, contract: {type: annual}}
uplink: {mqtt: {host: 127.0.0.1}}
devices:
  - {id: a, kind: switch, profile: box, address: 10.0.0.1}
"""
HEAD = "description: x\nkinds: [switch]\nprotocol: snmp\n"
PART = """\
points:
  sys.name: {oid: 1.3.6.1.2.1.1.5.0, type: text, meaning: device_name}
rules:
  - code: device.unreachable
    type: unreachable
    title: "{name} is unreachable"
    level: 2
"""


def write(tmp_path: Path, profile: str, **parts: str) -> Path:
    """The site, its profile box.yaml and ``parts`` (file name -> text) under profiles/."""
    profiles = tmp_path / "profiles"
    (profiles / "parts").mkdir(parents=True, exist_ok=True)
    (profiles / "box.yaml").write_text(HEAD + profile)
    for name, text in parts.items():
        (profiles / "parts" / f"{name}.yaml").write_text(text)
    site = tmp_path / "site.yaml"
    site.write_text(SITE)
    return site


def problems(site: Path) -> list[str]:
    return [p.removeprefix(f"{site.parent}/") for p in problems_of(site)]


def test_a_part_comes_first_in_each_section(tmp_path: Path) -> None:
    profile = (
        "include: [parts/base.yaml]\n"
        "points:\n  own: {oid: 1.3.6.1.2.1.1.3.0, type: timeticks, unit: s}\n"
        "rules:\n"
        "  - {code: own.high, type: check, title: hot, level: 3, when: {point: own, gt: 1}}\n"
    )
    config = load_config(write(tmp_path, profile, base=PART))
    box = config.profiles["box"]
    assert list(box.points) == ["sys.name", "own"]
    assert [rule.code for rule in box.rules] == ["device.unreachable", "own.high"]


def test_a_problem_in_a_part_is_at_its_line_in_the_part(tmp_path: Path) -> None:
    bad = PART.replace("level: 2", "level: 7")
    (found,) = problems(write(tmp_path, "include: [parts/base.yaml]\n", base=bad))
    assert found.startswith("profiles/parts/base.yaml:7: field 'rules.0.level'"), found


def test_a_problem_in_the_profile_after_a_part_is_at_its_own_line(tmp_path: Path) -> None:
    profile = (
        "include: [parts/base.yaml]\n"
        "rules:\n"
        "  - code: own.high\n    type: check\n    title: hot\n    level: 9\n"
        "    when: {point: sys.name, eq: x}\n"
    )
    (found,) = problems(write(tmp_path, profile, base=PART))
    assert found.startswith("profiles/box.yaml:9: field 'rules.1.level'"), found


@pytest.mark.parametrize(
    ("profile", "parts", "expected"),
    [
        (
            "include: [parts/nowhere.yaml]\n",
            {},
            "profiles/box.yaml:4: include 'parts/nowhere.yaml': no such file",
        ),
        ("include: parts/base.yaml\n", {"base": PART}, "profiles/box.yaml:4: include: give a list"),
        (
            "include: [parts/a.yaml]\n",
            {"a": "include: [b.yaml]\n", "b": "include: [a.yaml]\n"},
            "profiles/parts/b.yaml:1: include 'a.yaml': a cycle (box.yaml -> a.yaml -> b.yaml"
            " -> a.yaml)",
        ),
        (
            "include: [parts/base.yaml]\n"
            "points:\n  sys.name: {oid: 1.3.6.1.2.1.1.5.0, type: text}\n",
            {"base": PART},
            "profiles/box.yaml:6: point 'sys.name' is also defined at",
        ),
        (
            "include: [parts/base.yaml]\n",
            {"base": "protocol: snmp\n" + PART},
            "profiles/parts/base.yaml:1: 'protocol' in a part: a part holds only points,",
        ),
        (
            "include: [parts/base.yaml]\n",
            {"base": "- just a list\n"},
            "profiles/parts/base.yaml:1: a part is a mapping",
        ),
    ],
    ids=["missing", "not-a-list", "cycle", "twice", "stray-section", "not-a-mapping"],
)
def test_a_bad_include_is_refused_at_its_line(
    tmp_path: Path, profile: str, parts: dict[str, str], expected: str
) -> None:
    (found,) = problems(write(tmp_path, profile, **parts))
    assert found.startswith(expected), found


def test_a_part_defined_twice_names_where_it_was_first(tmp_path: Path) -> None:
    profile = "include: [parts/base.yaml]\npoints:\n  sys.name: {oid: 1.3.6.1.2.1.1.5.0}\n"
    (found,) = problems(write(tmp_path, profile, base=PART))
    assert found.endswith(f"at {tmp_path}/profiles/parts/base.yaml:2"), found


def test_check_config_says_where_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = write(tmp_path, "include: [parts/nowhere.yaml]\n")
    assert main(["check-config", "-c", str(site)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path}/profiles/box.yaml:4: include 'parts/nowhere.yaml': no such file" in err
    assert "Traceback" not in err


def test_a_site_profile_may_include_the_shipped_parts(tmp_path: Path) -> None:
    site = write(tmp_path, "include: [parts/if-mib.yaml, parts/poe.yaml]\n")
    box = load_config(site).profiles["box"]
    assert list(box.tables) == ["if", "poe"]
    assert "port.down" in [rule.code for rule in box.rules]


def test_the_shipped_switch_profiles_share_their_parts() -> None:
    """The parts exist once: every switch profile has them, none writes them out."""
    for name in ("switch-generic", "switch-huawei", "switch-cisco", "switch-h3c"):
        profile, found, path = _load_profile(name, [BUILTIN_PROFILES])
        assert profile is not None and not found and path is not None
        assert {"if", "poe"} <= set(profile.tables) and "sys.uptime" in profile.points
        assert "if:" not in path.read_text() and "sys.uptime" not in path.read_text()
