"""The shipped unit passes systemd's own checker, is hardened to an exposure of at most
2.0 and sets what the gateway relies on (notify, watchdog, bounds, device ACL)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.realservers import which

UNIT = Path("systemd/lvgw.service")
INSTALLED_LVGW = "/opt/lvgw/bin/lvgw"  # where `make install` puts it


def unit_for_this_checkout(tmp_path: Path) -> Path:
    """The unit with ExecStart at this checkout's lvgw: verify checks that it exists."""
    lvgw = Path(sys.prefix) / "bin" / "lvgw"
    assert lvgw.exists()
    text = UNIT.read_text()
    assert INSTALLED_LVGW in text
    unit = tmp_path / "lvgw.service"
    unit.write_text(text.replace(INSTALLED_LVGW, str(lvgw)))
    return unit


@pytest.mark.integration
def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    unit = unit_for_this_checkout(tmp_path)
    result = subprocess.run(
        [which("systemd-analyze"), "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


@pytest.mark.integration
def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    """The check above can fail: a typo in a directive is reported."""
    unit = tmp_path / "lvgw.service"
    unit.write_text(UNIT.read_text().replace("ExecStart=", "ExecStrat="))
    result = subprocess.run(
        [which("systemd-analyze"), "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert "ExecStrat" in result.stderr


def exposure(unit: Path) -> float:
    result = subprocess.run(
        [which("systemd-analyze"), "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert found, result.stdout[-2000:] + result.stderr
    return float(found.group(1))


@pytest.mark.integration
def test_unit_is_hardened_to_an_exposure_of_at_most_2(tmp_path: Path) -> None:
    assert exposure(unit_for_this_checkout(tmp_path)) <= 2.0


@pytest.mark.integration
def test_the_exposure_check_can_fail(tmp_path: Path) -> None:
    unit = unit_for_this_checkout(tmp_path)
    loose = re.sub(
        r"^(Protect|Private|Restrict|SystemCall)\w*=.*$", "", unit.read_text(), flags=re.M
    )
    unit.write_text(loose)
    assert exposure(unit) > 2.0


def directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_unit_sets_what_the_gateway_relies_on() -> None:
    unit = directives(UNIT.read_text())
    assert unit["Type"] == ["notify"]  # READY=1 and the watchdog: gateway/sdnotify.py
    assert unit["WatchdogSec"] and unit["NotifyAccess"] == ["main"]
    for key in ("LimitNOFILE", "MemoryHigh", "MemoryMax", "TasksMax"):
        assert unit[key], key
    assert unit["ProtectProc"] == ["invisible"] and unit["ProcSubset"] == ["pid"]
    assert unit["PrivateMounts"] == ["yes"]
    # Serial lines for Modbus RTU and no other device.
    assert unit["DevicePolicy"] == ["closed"]
    assert {a.split()[0] for a in unit["DeviceAllow"]} >= {"char-ttyS", "char-ttyUSB"}
