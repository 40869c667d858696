"""What the gateway reads from /proc is there under the unit's ProtectProc=invisible and
ProcSubset=pid: a procfs mounted with those options (hidepid=invisible, subset=pid, as
systemd mounts it) in a mount namespace of its own, the readers run in it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.realservers import which

pytestmark = pytest.mark.integration

READERS = """
from gateway.correlate.hostlink import HostLink
from gateway.metrics.selfstats import process_usage
from pathlib import Path

assert not Path("/proc/net").exists(), "not the unit's /proc"
assert not Path("/proc/meminfo").exists(), "not the unit's /proc"
assert HostLink()._routes() is not None, "routing table unreadable"
assert process_usage() is not None, "own usage unreadable"
"""

UNIT_PROC = 'mount -t proc -o hidepid=invisible,subset=pid proc /proc && exec "$0" "$@"'


def test_the_gateway_reads_its_proc_files_under_proc_subset_pid() -> None:
    result = subprocess.run(
        [which("unshare"), "--mount", "--propagation", "private", "sh", "-c", UNIT_PROC,
         sys.executable, "-c", READERS],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_the_old_path_is_hidden_there() -> None:
    """The check above can fail: /proc/net/route, read before, is gone in that /proc."""
    result = subprocess.run(
        [which("unshare"), "--mount", "--propagation", "private", "sh", "-c", UNIT_PROC,
         sys.executable, "-c",
         "from gateway.correlate.hostlink import HostLink; from pathlib import Path;"
         "assert HostLink(Path('/proc/net/route'))._routes() is None"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
