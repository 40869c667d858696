"""The pre-visit report of the demo fleet with injected faults, against reviewed golden
files. After a deliberate change, regenerate them with
``LVGW_UPDATE_GOLDEN=1 .venv/bin/pytest tests/cases/report`` and review the diff."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import load_config
from gateway.config.load import LoadedConfig
from gateway.views.report.command import make_report
from tests.cases.report.fixture import CASE, NOW, write_state

CHECKLIST_ITEMS = (  # the inspection sheet of domain.md, item by item
    "Clean dust off the panel",
    "Test every zone's alarm, strobe, siren and alarm dialer",
    "The backup battery takes over when mains is cut",
    "Test remote-control and keypad arming and disarming",
    "Check that the manual and the zone map are legible",
    "Ask the operators whether they use it correctly",
    "Clean the beams",
    "The receiver's signal voltage reaches its nominal value",
    "The relay trips when the beam is cut",
    "No vegetation that could cause false alarms",
    "Walk-test the coverage",
    "Clean the detectors",
    "Replace the batteries of wireless detectors",
    # and what the gateway adds from its measurements
    "Zones in fault or tamper",
    "disk HDD1",
    "Fans",
    "Temperatures",
)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> LoadedConfig:
    directory = tmp_path_factory.mktemp("report")
    state_dir = directory / "state"
    site = directory / "site.yaml"
    site.write_text((CASE / "site.yaml").read_text().replace("STATE_DIR", str(state_dir)))
    write_state(state_dir)
    return load_config(site)


@pytest.fixture(scope="module")
def config_zh(tmp_path_factory: pytest.TempPathFactory) -> LoadedConfig:
    """The same site and state, in Chinese (site.locale: zh-CN)."""
    directory = tmp_path_factory.mktemp("report-zh")
    state_dir = directory / "state"
    site = directory / "site.yaml"
    text = (CASE / "site.yaml").read_text().replace("STATE_DIR", str(state_dir))
    site.write_text(text.replace("\n  timezone:", "\n  locale: zh-CN\n  timezone:", 1))
    write_state(state_dir)
    config = load_config(site)
    assert config.site_file.site.locale == "zh-CN"
    return config


def check_golden(name: str, text: str) -> None:
    golden = CASE / name
    if os.environ.get("LVGW_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), f"differs from {golden}"


@pytest.mark.parametrize(("fmt", "name"), [("md", "report.md"), ("html", "report.html")])
async def test_site_report_matches_the_golden_file(
    config: LoadedConfig, fmt: str, name: str
) -> None:
    check_golden(name, await make_report(config, None, fmt, 30, NOW))


@pytest.mark.parametrize(
    ("fmt", "name"), [("md", "report.zh-CN.md"), ("html", "report.zh-CN.html")]
)
async def test_the_chinese_report_matches_its_golden_file(
    config_zh: LoadedConfig, fmt: str, name: str
) -> None:
    """Headings, states, findings and titles in Chinese; ids, codes, figures and times
    as in the English report."""
    check_golden(name, await make_report(config_zh, None, fmt, 30, NOW))


async def test_the_chinese_report_is_the_english_one_in_other_words(
    config: LoadedConfig, config_zh: LoadedConfig
) -> None:
    english = await make_report(config, None, "md", 30, NOW)
    chinese = await make_report(config_zh, None, "md", 30, NOW)
    assert chinese.startswith("# 上门前报告：")
    assert "## 预防性维护检查表" in chinese and "## 需携带" in chinese
    # The same tables: as many rows, the same ticket ids.
    assert chinese.count("\n|") == english.count("\n|")
    ids = [
        line.rsplit("|", 2)[-2].strip() for line in english.splitlines() if "| demo-site-" in line
    ]
    assert ids and all(ticket_id in chinese for ticket_id in ids)
    # A ticket's title is the one it was opened with (the tickets here were stored in English).
    assert "Disk HDD2 of CCTV recorder failed (smart_failed)" in chinese
    # Everything else says a state in its word: the checklist and the parts to bring.
    assert chinese.count("smart_failed") == 1 and "SMART 故障" in chinese


async def test_a_trend_line_is_named_by_what_it_means_never_by_its_point(
    config: LoadedConfig, config_zh: LoadedConfig
) -> None:
    """Series the device page does not chart (memory, mains voltage, time on battery
    here) are left out of the trend tables rather than listed by their point names."""
    for site in (config, config_zh):
        report = await make_report(site, None, "md", 30, NOW)
        firsts = [line.split("|")[1].strip() for line in report.splitlines()
                  if line.startswith("| ") and line.count("|") == 8]  # fmt: skip
        assert "往返时延" in firsts or "Round trip" in firsts
        assert [f for f in firsts if re.fullmatch(r"[a-z_]+(\.[a-z_0-9]+)+", f)] == []


async def test_device_report_matches_the_golden_file(config: LoadedConfig) -> None:
    check_golden("report-nvr-1.md", await make_report(config, "nvr-1", "md", 30, NOW))


async def test_every_checklist_item_is_measured_or_says_not_measured(config: LoadedConfig) -> None:
    text = await make_report(config, None, "md", 30, NOW)
    checklist = text.split("## Preventive-maintenance checklist", 1)[1].split("## Bring along")[0]
    rows = [line for line in checklist.splitlines() if line.startswith("| ") and "---" not in line]
    for item in CHECKLIST_ITEMS:
        row = next((r for r in rows if item in r), None)
        assert row is not None, f"checklist item missing: {item}"
        mark, finding = row.split(" | ")[0].strip("| "), row.split(" | ")[2]
        assert mark in ("OK", "**ATTENTION**", "*not measured*"), row
        assert finding.strip(" |"), row


def _checklist_row(text: str, task: str) -> tuple[str, str]:
    checklist = text.split("## Preventive-maintenance checklist", 1)[1].split("## Bring along")[0]
    row = next(r for r in checklist.splitlines() if r.startswith("| ") and f" | {task} | " in r)
    mark, _task, finding = (cell.strip() for cell in row.strip("|").split(" | "))
    return mark, finding


async def test_the_vendor_switches_fans_and_temperatures_are_measured(config: LoadedConfig) -> None:
    """The Huawei, Cisco and H3C switches' own tables (HUAWEI-ENTITY-EXTENT-MIB,
    CISCO-ENVMON-MIB, HH3C-ENTITY-EXT-MIB), read by the meanings their profiles give."""
    text = await make_report(config, None, "md", 30, NOW)
    mark, fans = _checklist_row(text, "Fans")
    assert mark == "**ATTENTION**"
    assert "Core switch fan 0.1 normal; Core switch fan 0.2 normal" in fans  # hwFanStatusTable
    assert "Floor 1 switch Fan 1 normal; Floor 1 switch Fan 2 normal" in fans  # ciscoEnvMon
    assert "Floor 2 switch Fan 1 normal; Floor 2 switch Fan 2 FAILED (fan error)" in fans
    assert "Chassis" not in fans and "Power supply" not in fans  # H3C: the fan entities only
    mark, temperatures = _checklist_row(text, "Temperatures")
    assert mark == "OK"
    for switch in ("Core switch", "Floor 1 switch", "Floor 2 switch"):
        assert f"{switch} Temperature 1 43°C; {switch} Temperature 2 38°C" in temperatures
    assert "Chassis" not in temperatures  # an H3C entity without a sensor reads 0: left out
    assert "- Fan unit for Floor 2 switch (Fan 2)" in text.split("## Bring along")[1]


def test_the_command_writes_the_report_and_refuses_an_unknown_device(
    config: LoadedConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "visit.html"
    assert main(["report", "-c", str(config.path), "--format", "html", "--out", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert main(["report", "-c", str(config.path), "--device", "nope"]) == 2
    assert "no device 'nope'" in capsys.readouterr().err
