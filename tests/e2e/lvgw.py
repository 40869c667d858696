"""`lvgw run` as the end-to-end tests start it: the real gateway, in a subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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


@asynccontextmanager
async def lvgw_running(config: Path, log_path: Path) -> AsyncIterator[subprocess.Popen[bytes]]:
    """`lvgw run -c config` logging to ``log_path`` while the block runs, stopped with
    SIGTERM after it: the gateway must exit 0 within 10 s (killed otherwise)."""
    with log_path.open("wb") as log:
        gateway = lvgw_run(config, log)
    try:
        yield gateway
    finally:
        gateway.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.to_thread(gateway.wait, 10)
        except subprocess.TimeoutExpired:
            gateway.kill()
            await asyncio.to_thread(gateway.wait, 5)
            raise
        if code != 0:
            text = await asyncio.to_thread(log_path.read_text, errors="replace")
            raise AssertionError(
                f"lvgw run exited with {code}; the end of {log_path}:\n{text[-3000:]}"
            )
