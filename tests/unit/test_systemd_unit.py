"""The shipped unit passes systemd's own checker."""

import subprocess
import sys
from pathlib import Path

from tests.realservers import which

UNIT = Path("systemd/lvgw.service")


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    # verify also checks that ExecStart exists: point it at this checkout's lvgw.
    lvgw = Path(sys.prefix) / "bin" / "lvgw"
    assert lvgw.exists()
    unit = tmp_path / "lvgw.service"
    unit.write_text(UNIT.read_text().replace("/opt/lvgw/.venv/bin/lvgw", str(lvgw)))
    result = subprocess.run(
        [which("systemd-analyze"), "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    """The check above can fail: a typo in a directive is reported."""
    unit = tmp_path / "lvgw.service"
    unit.write_text(UNIT.read_text().replace("ExecStart=", "ExecStrat="))
    result = subprocess.run(
        [which("systemd-analyze"), "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert "ExecStrat" in result.stderr


def test_unit_is_hardened(tmp_path: Path) -> None:
    lvgw = Path(sys.prefix) / "bin" / "lvgw"
    unit = tmp_path / "lvgw.service"
    unit.write_text(UNIT.read_text().replace("/opt/lvgw/.venv/bin/lvgw", str(lvgw)))
    result = subprocess.run(
        # threshold in tenths: fail above an exposure of 3.0 ("OK" in systemd's words)
        [which("systemd-analyze"), "security", "--offline=true", "--threshold=30", str(unit)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
