"""Finding 10: check-config opens every secret file as the service reads it.

An unreadable, empty or non-UTF-8 secret is an error (before, it passed and `lvgw run`
died with a traceback in a restart loop); a secret others can read is a warning."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SITE = """\
site:
  id: site-1
  name: Test
  customer: {{name: C}}
  contract: {{type: annual}}
  timezone: Asia/Shanghai
uplink:
  mqtt: {{host: 127.0.0.1, username: gw, password_file: {secret}}}
  command_key_file: {key}
agent:
  state_dir: {state}
  status_listen: 0.0.0.0:8780
  status_token_file: {token}
devices:
  - {{id: sw-1, kind: switch, profile: switch-generic, address: 192.0.2.1}}
"""


def site(tmp_path: Path, secret: bytes = b"s3cret\n", token: bytes = b"t0ken\n") -> Path:
    (tmp_path / "secret").write_bytes(secret)
    (tmp_path / "token").write_bytes(token)
    (tmp_path / "key").write_bytes(b"k3y-of-the-site\n")
    for name in ("secret", "token", "key"):
        (tmp_path / name).chmod(0o600)
    path = tmp_path / "site.yaml"
    path.write_text(
        SITE.format(
            secret=tmp_path / "secret",
            token=tmp_path / "token",
            key=tmp_path / "key",
            state=tmp_path / "st",
        )
    )
    return path


def check(path: Path, as_user: int | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "gateway", "check-config", "-c", str(path)]
    if as_user is not None:
        command = [
            "setpriv",
            f"--reuid={as_user}",
            f"--regid={as_user}",
            "--clear-groups",
            *command,
        ]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


def test_readable_private_secrets_pass_quietly(tmp_path: Path) -> None:
    result = check(site(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr


@pytest.mark.parametrize(
    ("secret", "token", "line", "words"),
    [
        (b"", b"t0ken\n", 8, "uplink.mqtt.password_file"),
        (b"\n", b"t0ken\n", 8, "empty"),
        (b"s3cret\n", b"", 13, "agent.status_token_file"),
        (b"s3cret\n", b"  \n", 13, "empty"),
        (b"\xff\xfe\x00s", b"t0ken\n", 8, "UTF-8"),
    ],
)
def test_empty_or_unreadable_secret_is_an_error(
    tmp_path: Path, secret: bytes, token: bytes, line: int, words: str
) -> None:
    path = site(tmp_path, secret, token)
    result = check(path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{path}:{line}: "), first
    assert words in first, first


@pytest.fixture
def world_traversable_dir() -> Iterator[Path]:
    """A directory the service user can reach: not under pytest's basetemp, whose
    parents every pytest session on the machine resets to 0700 when it starts (so
    opening them up here lasted only until another session began)."""
    path = Path(tempfile.mkdtemp(prefix="lvgw-secret-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path)


def test_a_secret_the_service_user_cannot_read_is_an_error(world_traversable_dir: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to run check-config as another user")
    tmp_path = world_traversable_dir
    path = site(tmp_path)
    # The service user (nobody here) can read the site file but not the secret.
    path.chmod(0o644)
    (tmp_path / "token").chmod(0o644)
    result = check(path, as_user=65534)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{path}:8: "), first
    assert "cannot read" in first and "Permission denied" in first, first


def test_lvgw_run_refuses_an_empty_secret_without_a_traceback(tmp_path: Path) -> None:
    path = site(tmp_path, secret=b"")
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "run", "-c", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "empty" in result.stderr


def test_a_secret_others_can_read_is_a_warning(tmp_path: Path) -> None:
    path = site(tmp_path)
    (tmp_path / "secret").chmod(0o644)
    result = check(path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{path}:8: warning: "), lines
    assert "uplink.mqtt.password_file" in lines[0] and "chmod 600" in lines[0], lines
