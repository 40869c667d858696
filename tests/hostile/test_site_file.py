"""Finding 9: hostile or broken site files get `FILE:LINE: message` and exit 2, fast.

Each file here once gave a traceback and exit 1 (or took seconds and gigabytes)."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

HEAD = """\
site:
  id: site-1
  name: Test
  customer: {name: C}
  contract: {type: annual}
uplink:
  mqtt: {host: 127.0.0.1}
devices:
  - {id: sw-1, kind: switch, profile: switch-generic, address: 192.0.2.1}
"""

# The classic "billion laughs": 9 levels of 9 aliases, 1.3 kB of text.
ALIAS_BOMB = "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)


def check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "check-config", "-c", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


CASES: dict[str, tuple[bytes, int, str]] = {
    # name: (file content, expected line, what the message says)
    "alias bomb": (HEAD.encode() + ALIAS_BOMB.encode(), 11, "alias"),
    "recursive alias": (HEAD.encode() + b"loop: &x [*x]\n", 10, "alias"),
    "impossible date": (
        HEAD.replace("{type: annual}", "{type: annual, ends: 2027-02-30}").encode(),
        5,
        "not a valid date",
    ),
    "huge integer": (HEAD.encode() + b"agent: {state_dir: " + b"9" * 4301 + b"}\n", 10, "integer"),
    "unknown tag": (HEAD.encode() + b"agent: !!python/object:os.system {}\n", 10, "tag"),
    "NUL byte": (HEAD.encode() + b"name2: a\x00b\n", 10, "character"),
    "binary": (
        b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4,
        2,
        "UTF-8",
    ),  # 0x0a comes before 0x80
    "UTF-16": (HEAD.encode("utf-16"), 1, "UTF-8"),
    "deep nesting": (HEAD.encode() + b"x: " + b"[" * 5000 + b"]" * 5000 + b"\n", 10, "deep"),
    "too large": (HEAD.encode() + b"# " + b"x" * (5 * 1024 * 1024) + b"\n", 1, "large"),
}


@pytest.mark.parametrize("name", CASES)
def test_hostile_site_file_is_a_config_problem(tmp_path: Path, name: str) -> None:
    content, line, words = CASES[name]
    path = tmp_path / "site.yaml"
    path.write_bytes(content)
    # The CPU time the check took, not the wall time: the same on a loaded machine.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = check(path)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    took = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 2, result.stderr[-2000:]
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{path}:{line}: "), first
    assert words.lower() in first.lower(), first
    assert took < 10, f"check-config took {took:.1f} s of CPU"


def test_a_profile_gets_the_same_checks(tmp_path: Path) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "bomb.yaml").write_text(ALIAS_BOMB)
    path = tmp_path / "site.yaml"
    path.write_text(HEAD.replace("switch-generic", "bomb"))
    result = check(path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"{tmp_path / 'profiles' / 'bomb.yaml'}:2: "), result.stderr
    assert "alias" in result.stderr.splitlines()[0]
