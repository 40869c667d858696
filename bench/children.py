"""Stopping the servers a benchmark started (fleets, agents)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from typing import Any


def stop_all(procs: Sequence[subprocess.Popen[Any]], grace: float = 10.0) -> None:
    """SIGTERM to every one first (they stop in parallel), then SIGKILL to any that
    has not exited within ``grace`` seconds."""
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace)
