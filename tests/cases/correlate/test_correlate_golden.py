"""Golden cases of the correlation stage: what happens on a site in, what the ticket
book is told out.

Each folder here holds ``input.yaml``: the devices (default: the site of
tests/correlate/kit.py), each device's first poll offset (``phases``), how long to
run (``until``) and a timeline of what happens (devices dying, links cut, the
gateway's link, maintenance set and cleared, restarts; the step kinds are listed in
tests/correlate/simulation.py). Devices are polled every 30 s through the real rule
engine, and the correlator's output is compared with ``expected.yaml``: every
condition passed on, in order, with the time it was passed on (``at``).

After a deliberate change, ``LVGW_UPDATE_GOLDEN=1`` rewrites the expected files;
review their diff before committing it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cases.golden import check_against_expected
from tests.correlate.kit import SITE, site_config
from tests.correlate.simulation import SiteRun, describe
from tests.rules.harness import seconds

HERE = Path(__file__).parent
CASES = sorted(p for p in HERE.iterdir() if (p / "input.yaml").is_file())


async def play(case: Path, directory: Path) -> list[dict[str, Any]]:
    spec = yaml.safe_load((case / "input.yaml").read_text())
    config = site_config(directory, spec.get("devices", SITE))
    run = SiteRun(config, spec.get("phases"))
    await run.run(spec["timeline"], seconds(spec["until"]))
    return [describe(at, c) for at, c in run.emitted]


def test_there_are_cases() -> None:
    assert len(CASES) >= 12


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_golden_case(case: Path, tmp_path: Path) -> None:
    actual = await play(case, tmp_path)
    check_against_expected(case, actual, "correlator output")
