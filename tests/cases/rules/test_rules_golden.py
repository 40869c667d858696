"""Golden cases of the rule engine: a timeline of readings in, the conditions out.

Each folder here holds ``input.yaml`` (the devices of a site and a timeline of device
state changes, polls, traps and ticks) and ``expected.yaml`` (every condition change,
in order). Cases without a ``profiles/`` folder use the shipped profiles. The format
is described in README.md next to this file.

After a deliberate change of a rule, ``LVGW_UPDATE_GOLDEN=1`` rewrites the expected
files; review their diff before committing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.config import load_config
from gateway.config.include import load_profile_source
from gateway.config.load import BUILTIN_PROFILES
from gateway.config.profile import Profile
from gateway.config.rules import fault_codes
from gateway.rules import RuleEngine
from tests.cases.golden import check_against_expected
from tests.rules.harness import Timeline, describe, steps, write_site

HERE = Path(__file__).parent
CASES = sorted(p for p in HERE.iterdir() if (p / "input.yaml").is_file())
STATES = HERE / "states"


def play(case: Path, directory: Path) -> list[dict[str, Any]]:
    spec = yaml.safe_load((case / "input.yaml").read_text())
    profiles = [case / "profiles"] if (case / "profiles").is_dir() else []
    devices, states = [], {}
    for entry in spec["devices"]:
        device = dict(entry)
        if "state" in device:  # the device's state at the start, from states/<name>.yaml
            states[device["id"]] = yaml.safe_load(
                (STATES / f"{device.pop('state')}.yaml").read_text()
            )
        devices.append(device)
    sections = spec.get("sections", {})
    engine = RuleEngine(load_config(write_site(directory, devices, profiles, sections)))
    timeline = Timeline(engine, states)
    return [describe(at, c) for at, c in timeline.run(steps(spec["events"]))]


def test_every_shipped_fault_code_has_a_case() -> None:
    """Each code of each shipped profile is raised in at least one case on that profile."""
    raised: set[tuple[str, str]] = set()
    for case in CASES:
        spec = yaml.safe_load((case / "input.yaml").read_text())
        profile_of = {d["id"]: d["profile"] for d in spec["devices"]}
        for change in yaml.safe_load((case / "expected.yaml").read_text()) or []:
            if change["active"]:
                raised.add((profile_of[change["device"]], change["code"]))
    shipped = set()
    for path in sorted(BUILTIN_PROFILES.glob("*.yaml")):
        data, _lines = load_profile_source(path)  # with the parts it includes
        profile = Profile.model_validate({"id": path.stem, **data})
        shipped |= {(path.stem, code) for code in fault_codes(profile.rules)}
    assert len(shipped) > 40
    assert sorted(shipped - raised) == []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case(case: Path, tmp_path: Path) -> None:
    actual = play(case, tmp_path)
    check_against_expected(case, actual, "engine output")
