"""`make install` with a DESTDIR: the tree docs/install.md describes, a unit systemd
accepts there, a site file never overwritten, rollback and uninstall.

The built wheel is installed without its dependencies (no index here); where the
installed gateway runs, it borrows them as the clean venv of conftest.py does."""

from __future__ import annotations

import marshal
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.packaging.conftest import ROOT, Venv, lend_dependencies
from tests.realservers import which

pytestmark = pytest.mark.integration

SYSTEM_UNITS = Path("/usr/lib/systemd/system")


@pytest.fixture
def destdir(tmp_path: Path) -> Path:
    """An empty root, but for the units of the operating system: systemd-analyze
    verify --root needs the targets the unit is ordered against."""
    root = tmp_path / "root"
    (root / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    (root / "lib").symlink_to("usr/lib")
    return root


def make(target: str, root: Path, wheel: Path, *extra: str) -> str:
    result = subprocess.run(
        [which("make"), "-s", "-C", str(ROOT), target, f"DESTDIR={root}", f"WHEEL={wheel}",
         "PIP_OPTS=--no-deps --no-index", *extra],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def systemd_analyze(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [which("systemd-analyze"), *args, f"--root={root}", "lvgw.service"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def assert_unit_verifies(root: Path) -> None:
    result = systemd_analyze(root, "verify")
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_install_lays_out_the_documented_tree(destdir: Path, built_wheel: Path) -> None:
    out = make("install", destdir, built_wheel)
    assert "wrote /etc/lvgw/site.yaml from the example" in out
    gateway = destdir / "opt/lvgw"
    # A venv that runs from /opt/lvgw, though built under DESTDIR.
    assert (gateway / "bin/lvgw").read_text().startswith("#!/opt/lvgw/bin/python\n")
    for text_file in [gateway / "pyvenv.cfg", *(gateway / "bin").iterdir()]:
        if text_file.is_file() and not text_file.is_symlink():
            assert str(destdir) not in text_file.read_text(errors="replace"), text_file
    (compiled,) = gateway.glob("lib/python3*/site-packages/gateway/__pycache__/cli.*.pyc")
    code = marshal.loads(compiled.read_bytes()[16:])
    assert code.co_filename.startswith("/opt/lvgw/lib/")
    assert (destdir / "usr/local/bin/lvgw").readlink() == Path("/opt/lvgw/bin/lvgw")
    # Configuration: the example, and a root-only directory for secrets.
    site = destdir / "etc/lvgw/site.yaml"
    assert site.read_text() == (ROOT / "config/site.example.yaml").read_text()
    credentials = destdir / "etc/lvgw/credentials"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o700
    # The unit, the one the installed version came with, and systemd accepts it there.
    unit = destdir / "etc/systemd/system/lvgw.service"
    assert unit.read_text() == (ROOT / "systemd/lvgw.service").read_text()
    assert (gateway / "share/lvgw/lvgw.service").read_text() == unit.read_text()
    assert (gateway / "share/doc/lvgw/install.md").exists()
    assert_unit_verifies(destdir)
    security = systemd_analyze(destdir, "security", "--offline=true", "--no-pager")
    found = re.search(r"Overall exposure level for lvgw.service: (\d+\.\d+)", security.stdout)
    assert found and float(found.group(1)) <= 2.0, security.stdout[-1500:] + security.stderr
    assert not (destdir / "opt/lvgw.prev").exists()  # nothing to roll back to yet
    # The installed gateway checks the installed site file.
    installed = Venv(gateway)
    lend_dependencies(installed)
    result = subprocess.run(
        [str(gateway / "bin/python"), "-m", "gateway", "check-config", "-c", str(site)],
        cwd=destdir, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_reinstall_keeps_the_site_file_wires_credentials_and_rolls_back(
    destdir: Path, built_wheel: Path
) -> None:
    make("install", destdir, built_wheel)
    site = destdir / "etc/lvgw/site.yaml"
    edited = site.read_text().replace("site-001", "site-042")
    site.write_text(edited)
    secret = destdir / "etc/lvgw/credentials/mqtt.password"
    secret.write_text("s3cret\n")
    secret.chmod(0o600)
    (destdir / "opt/lvgw/FIRST").touch()  # tells the two installed versions apart

    out = make("install", destdir, built_wheel)
    assert "kept /etc/lvgw/site.yaml" in out
    assert site.read_text() == edited
    assert (destdir / "opt/lvgw.prev/FIRST").exists()
    assert not (destdir / "opt/lvgw/FIRST").exists()
    dropin = destdir / "etc/systemd/system/lvgw.service.d/credentials.conf"
    assert "LoadCredential=mqtt.password:/etc/lvgw/credentials/mqtt.password\n" in (
        dropin.read_text()
    )
    assert_unit_verifies(destdir)

    make("rollback", destdir, built_wheel)
    assert (destdir / "opt/lvgw/FIRST").exists()
    assert not (destdir / "opt/lvgw.prev/FIRST").exists()
    assert_unit_verifies(destdir)

    state = destdir / "var/lib/private/lvgw"  # where DynamicUser= keeps the state
    state.mkdir(parents=True)
    (state / "tickets.db").touch()
    make("uninstall", destdir, built_wheel)
    assert not (destdir / "opt/lvgw").exists() and not (destdir / "opt/lvgw.prev").exists()
    assert not (destdir / "etc/systemd/system/lvgw.service").exists()
    assert not (destdir / "usr/local/bin/lvgw").is_symlink()
    assert site.read_text() == edited and secret.exists()  # configuration kept
    assert (state / "tickets.db").exists()  # and state

    make("uninstall", destdir, built_wheel, "PURGE=1")
    assert not (destdir / "etc/lvgw").exists() and not state.exists()
