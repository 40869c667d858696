"""The wheel as a user gets it, and a clean virtualenv with it installed.

The wheel is built from a copy of the files a clone has (tracked ones and new ones not
ignored), never in the checkout itself, with this venv's setuptools and no network
(``--no-build-isolation``). The clean venv holds only the wheel; the third-party
libraries it needs come from this venv's site-packages by a ``.pth`` line, which adds
that directory to ``sys.path`` without running its ``.pth`` files, so the editable
install of the checkout stays out of it (``test_wheel.py`` checks where ``gateway``
is imported from).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def tree_files() -> list[str]:
    """The files of a clone of this checkout, as it is now (relative paths)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    return [name for name in listed.split("\0") if name and os.path.lexists(ROOT / name)]


def copy_tree(dest: Path) -> Path:
    for name in tree_files():
        source, target = ROOT / name, dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    return dest


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = copy_tree(work / "src")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(work / "dist"), str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = (work / "dist").glob("lvgw-*.whl")
    return wheel


@dataclass(frozen=True)
class Venv:
    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def site_packages(self) -> Path:
        (path,) = self.root.glob("lib/python3*/site-packages")
        return path


def lend_dependencies(venv: Venv) -> None:
    """Make this venv's third-party libraries importable in ``venv`` (see above)."""
    ours = Path(sysconfig.get_paths()["purelib"])
    assert not (ours / "gateway").exists(), f"{ours} holds a copy of gateway: not editable"
    (venv.site_packages() / "lvgw-test-dependencies.pth").write_text(f"{ours}\n")


def make_venv(path: Path) -> Venv:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return Venv(path)


def pip_install(venv: Venv, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv.bin / "python"), "install",
         "--no-deps", "--no-index", "-q", *args],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="session")
def installed(built_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """A clean venv with the built wheel installed."""
    venv = make_venv(tmp_path_factory.mktemp("clean") / "venv")
    pip_install(venv, str(built_wheel))
    lend_dependencies(venv)
    return venv
