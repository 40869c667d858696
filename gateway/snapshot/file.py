"""The status snapshot on disk: ``<state_dir>/status.json``.

The running agent rewrites it every few seconds, atomically, so `lvgw status`, the
status page and `lvgw report` read it from other processes, and still see the last
known state (marked stale) when the agent is stopped.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gateway.snapshot.model import StatusSnapshot

SNAPSHOT_NAME = "status.json"


def write(state_dir: Path, snapshot: StatusSnapshot) -> None:
    """Replace the snapshot atomically: a reader never sees half a file."""
    state_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=state_dir, prefix=".status-", suffix=".json")
    try:
        # Encoded in C (json.dumps), each device's entry once while it does not change.
        text = snapshot.to_json()
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, state_dir / SNAPSHOT_NAME)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(state_dir: Path) -> StatusSnapshot | None:
    """The last snapshot written; None when there is none yet or it cannot be read."""
    try:
        return StatusSnapshot.from_json((state_dir / SNAPSHOT_NAME).read_bytes())
    except (OSError, ValueError):
        return None
