"""A new site file from the service center (``cmd/config``, docs/mqtt.md): checked as
`lvgw check-config` checks it, swapped in atomically with the previous one kept, and
put back when the gateway cannot reach its broker with the new one in time.

What is under way is written to ``<state_dir>/config-swap.json`` (fsynced), so a
gateway that restarts or crashes in the middle finishes the change, or rolls it back,
at its next start. The files beside the site file:

- ``<site file>.new``: the candidate while it is checked (removed after);
- ``<site file>.previous``: the site file it replaced, put back on a rollback.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from gateway.config.errors import ConfigError, ConfigProblem
from gateway.config.load import LoadedConfig, load_config

PENDING_NAME = "config-swap.json"
MAX_PROBLEMS = 20  # listed in a refusal; the count says how many there were

TRYING = "trying"  # the new file is in place; the broker not reached with it yet
ROLLED_BACK = "rolled_back"  # the previous file is back; the reply not sent yet


@dataclass(frozen=True, slots=True)
class Pending:
    """A site file change under way."""

    request_id: str | None
    phase: str  # TRYING or ROLLED_BACK
    deadline: str  # RFC 3339: the broker must be reached with the new file by then
    broker: str  # host:port of the new file's broker, for the reply
    reason: str = ""  # why it was rolled back

    def deadline_at(self) -> datetime:
        return datetime.fromisoformat(self.deadline)


def new_path(site_path: Path) -> Path:
    return site_path.with_name(site_path.name + ".new")


def previous_path(site_path: Path) -> Path:
    return site_path.with_name(site_path.name + ".previous")


def check(
    site_path: Path, text: str, running: LoadedConfig
) -> tuple[LoadedConfig | None, list[str]]:
    """The candidate, written beside the site file (so that relative paths resolve as
    they will) and loaded as check-config loads it: the config, or its problems as
    ``FILE:LINE: message``. The candidate file is removed either way."""
    candidate = new_path(site_path)
    _write_synced(candidate, text.encode())
    try:
        config = load_config(candidate)
    except ConfigError as exc:
        return None, [str(p) for p in exc.problems]
    finally:
        candidate.unlink(missing_ok=True)
    problems = []
    if config.site_file.site.id != running.site_file.site.id:
        problems.append(
            str(ConfigProblem(candidate, 1, f"site.id must stay {running.site_file.site.id!r}"))
        )
    if config.site_file.agent.state_dir.resolve() != running.site_file.agent.state_dir.resolve():
        problems.append(
            str(ConfigProblem(candidate, 1, "agent.state_dir cannot change over cmd/config"))
        )
    return (None, problems) if problems else (config, [])


def apply(site_path: Path, text: str, pending: Pending, state_dir: Path) -> None:
    """Keep the site file as ``.previous``, record ``pending``, and put the new text in
    place with one rename: a reader sees the old file or the new one, never half."""
    previous = previous_path(site_path)
    shutil.copy2(site_path, previous)
    _fsync(previous)
    write_pending(state_dir, pending)
    candidate = new_path(site_path)
    _write_synced(candidate, text.encode())
    os.replace(candidate, site_path)
    _fsync_dir(site_path.parent)


def roll_back(site_path: Path, state_dir: Path, pending: Pending, reason: str) -> Pending:
    """Put the previous site file back and record why."""
    previous = previous_path(site_path)
    rolled = Pending(pending.request_id, ROLLED_BACK, pending.deadline, pending.broker, reason)
    write_pending(state_dir, rolled)
    os.replace(previous, site_path)
    _fsync_dir(site_path.parent)
    return rolled


def read_pending(state_dir: Path) -> Pending | None:
    try:
        data = json.loads((state_dir / PENDING_NAME).read_text(encoding="utf-8"))
        return Pending(**data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError):
        # Not ours to guess: a damaged record is dropped (the site file stays as it is).
        clear_pending(state_dir)
        return None


def write_pending(state_dir: Path, pending: Pending) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    target = state_dir / PENDING_NAME
    tmp = target.with_name(target.name + ".tmp")
    _write_synced(tmp, json.dumps(asdict(pending)).encode())
    os.replace(tmp, target)
    _fsync_dir(state_dir)


def clear_pending(state_dir: Path) -> None:
    (state_dir / PENDING_NAME).unlink(missing_ok=True)


def overdue(pending: Pending, now: datetime | None = None) -> bool:
    return pending.phase == TRYING and (now or datetime.now(UTC)) >= pending.deadline_at()


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
