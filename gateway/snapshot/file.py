"""The status snapshot on disk: ``<state_dir>/status.json``.

The running agent rewrites it every few seconds, atomically, so `lvgw status`, the
status page and `lvgw report` read it from other processes, and still see the last
known state (marked stale) when the agent is stopped.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

SNAPSHOT_NAME = "status.json"


def write(state_dir: Path, snapshot: dict[str, Any]) -> None:
    """Replace the snapshot atomically: a reader never sees half a file."""
    state_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=state_dir, prefix=".status-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(snapshot, out, ensure_ascii=False)
        os.replace(tmp, state_dir / SNAPSHOT_NAME)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(state_dir: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads((state_dir / SNAPSHOT_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data
