"""`lvgw run` as the end-to-end tests start it: the real gateway, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import IO


def lvgw_run(config: Path, output: int | IO[bytes] = subprocess.PIPE) -> subprocess.Popen[bytes]:
    """`lvgw run -c config` in a subprocess, its stdout and stderr both to ``output`` (a
    pipe unless given a file), unbuffered so that a log read mid-run is up to date."""
    return subprocess.Popen(
        [sys.executable, "-m", "gateway", "run", "-c", str(config)],
        stdout=output, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
