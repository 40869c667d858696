"""``lvgw clocks`` through the command line: the golden table's deadlines on a site
file, and a clear error with exit 2 on bad arguments."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.cli import main
from tests.cases.clocks.test_clocks_golden import BASE_SITE, CASES

SINGLE = [c for c in CASES if "steps" not in c]
DEVICES = [{"id": "nvr-1", "kind": "nvr", "profile": "nvr-hikvision", "address": "192.0.2.3"}]


def site_file(directory: Path, overrides: dict[str, Any]) -> Path:
    site = {**BASE_SITE, **overrides}
    document = {"site": site, "uplink": {"mqtt": {"host": "127.0.0.1"}}, "devices": DEVICES}
    path = directory / "site.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def lvgw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args], capture_output=True, text=True, check=False
    )


def instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(str(text))


@pytest.mark.parametrize("case", SINGLE, ids=[c["name"] for c in SINGLE])
def test_the_golden_table_through_the_cli(
    case: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = site_file(tmp_path, case.get("site", {}))
    args = ["clocks", "-c", str(path), "--level", str(case["level"]), "--at", case["at"]]
    args += ["--device", case.get("device", "nvr-1"), "--json"]
    args += ["--code", case["code"]] if "code" in case else []
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("response_due", "onsite_due", "loaner_due"):
        if key in case["expect"]:
            assert instant(out[key]) == instant(case["expect"][key]), key
            assert out[key] is None or out[key].endswith("Z")  # RFC 3339, UTC


@pytest.mark.integration
def test_text_output_in_site_time(tmp_path: Path) -> None:
    path = site_file(tmp_path, {"clocks": {"duty": {}}})
    result = lvgw("clocks", "-c", str(path), "--level", "1", "--at", "2026-03-06T23:10")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "site golden: urban, annual contract until 2027-06-30,"
        " duty every day 08:00-22:30 (Asia/Shanghai)",
        "level 1 at 2026-03-06T15:10:00.000Z  (Fri 2026-03-06 23:10 Asia/Shanghai)",
        "response_due  2026-03-07T00:10:00.000Z  (Sat 2026-03-07 08:10 Asia/Shanghai)",
        "onsite_due    2026-03-07T02:00:00.000Z  (Sat 2026-03-07 10:00 Asia/Shanghai)",
        "loaner_due    2026-03-09T00:00:00.000Z  (Mon 2026-03-09 08:00 Asia/Shanghai)",
    ]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--level", "5", "--at", "2026-03-06T10:00"], "argument --level: invalid choice: 5"),
        (["--level", "one", "--at", "2026-03-06T10:00"], "argument --level: invalid int value"),
        (["--at", "2026-03-06T10:00"], "the following arguments are required: --level"),
        (["--level", "2", "--at", "next friday"], "--at 'next friday': not a time"),
        (["--level", "2", "--at", "2026-02-30T10:00"], "--at '2026-02-30T10:00': not a time"),
        (["--level", "2", "--at", "2026-03-06T10:00", "--device", "nvr-9"],
         "--device 'nvr-9': no such device (known: nvr-1)"),
        (["--level", "2", "--at", "2026-03-06T10:00", "--device", "nvr-1", "--code", "port.down"],
         "--code 'port.down': device nvr-1 (nvr-hikvision) has no such rule"),
        (["--level", "2", "--at", "2026-03-06T10:00", "--code", "trunk.down"],
         "--code 'trunk.down': no rule of this site raises it"),
    ],
)  # fmt: skip
def test_bad_arguments_exit_2_with_a_clear_message(
    args: list[str], message: str, tmp_path: Path
) -> None:
    result = lvgw("clocks", "-c", str(site_file(tmp_path, {})), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.integration
def test_a_bad_site_file_exits_2(tmp_path: Path) -> None:
    path = site_file(tmp_path, {"clocks": {"duty": {}}, "timezone": None})
    result = lvgw("clocks", "-c", str(path), "--level", "1", "--at", "2026-03-06T10:00")
    assert result.returncode == 2
    assert "duty hours need a time zone" in result.stderr
