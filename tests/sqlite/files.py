"""What a state file's header says, read with a plain connection."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def header(path: Path) -> tuple[int, int]:
    """``(application_id, user_version)`` of the file at ``path``."""
    conn = sqlite3.connect(path)
    try:
        return (
            conn.execute("PRAGMA application_id").fetchone()[0],
            conn.execute("PRAGMA user_version").fetchone()[0],
        )
    finally:
        conn.close()
