"""Maintenance windows: per device or for the whole site, with an end, an author, a reason.

Kept in ``<state_dir>/maintenance.json`` so that a restart keeps them, and so that
``lvgw maintenance`` (another process) and the running agent share them: every
change is a read-modify-write under an exclusive lock on ``maintenance.lock``,
written to a temporary file, flushed to disk and renamed over the old one; the
agent notices a change by the file's modification time and size
(:meth:`MaintenanceStore.reload_if_changed`), one ``stat`` per tick.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from gateway.config.load import LoadedConfig
from gateway.config.types import Duration
from gateway.correlate.errors import MaintenanceError, MaintenanceStoreError
from gateway.correlate.topology import GATEWAY

SITE = "site"  # the target that puts every device (and the gateway itself) in maintenance
FILE_NAME = "maintenance.json"
SCHEMA_ID = "lvgw.maintenance/1"
MAX_DURATION = timedelta(hours=24)  # the site file's maintenance.max_window by default
_FAR_TOO_LONG = 100 * 365 * 86400.0  # seconds: no window is that long, and a clock overflows
MAX_TEXT = 500


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """One device (or the site) in maintenance from ``set_at`` until ``until``."""

    target: str  # a device id, or SITE
    until: datetime
    by: str
    reason: str
    set_at: datetime

    def covers(self, device: str, now: datetime) -> bool:
        # From the moment it is set (not from ``set_at``: a condition judged a moment
        # before, and handled after, is held too) until its end.
        return self.target in (SITE, device) and now < self.until

    def to_json(self) -> dict[str, str]:
        return {
            "target": self.target,
            "until": _rfc3339(self.until),
            "by": self.by,
            "reason": self.reason,
            "set_at": _rfc3339(self.set_at),
        }

    @classmethod
    def from_json(cls, data: Any) -> MaintenanceWindow:
        if not isinstance(data, dict):
            raise TypeError("a window is an object")
        return cls(
            target=str(data["target"]),
            until=_parse_time(data["until"]),
            by=str(data["by"]),
            reason=str(data.get("reason", "")),
            set_at=_parse_time(data["set_at"]),
        )


def _rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_time(text: object) -> datetime:
    if not isinstance(text, str):
        raise TypeError("a time is RFC 3339 text")
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ValueError(f"time without a time zone: {text!r}")
    return at.astimezone(UTC)


class MaintenanceStore:
    """The site's maintenance windows, on disk and in memory.

    The management API (``set_maintenance``, ``clear_maintenance``, ``maintenance``)
    validates every request and raises :class:`MaintenanceError` with a message for
    the person who asked; file problems raise :class:`MaintenanceStoreError`.
    """

    def __init__(
        self,
        state_dir: Path,
        devices: Collection[str],
        max_duration: timedelta = MAX_DURATION,
    ) -> None:
        self.path = state_dir / FILE_NAME
        self.lock_path = state_dir / "maintenance.lock"
        self.devices = frozenset(devices)
        self.max_duration = max_duration
        self.windows: dict[str, MaintenanceWindow] = {}
        self._stamp: tuple[int, int, int] | None = None
        self.reload_if_changed()

    @classmethod
    def for_site(cls, config: LoadedConfig) -> MaintenanceStore:
        """The store of a site: its state directory, devices and longest window."""
        site_file = config.site_file
        return cls(
            site_file.agent.state_dir,
            [d.id for d in config.devices],
            timedelta(seconds=site_file.maintenance.max_window),
        )

    # -- the management API ---------------------------------------------------------

    def set_maintenance(
        self,
        target: str,
        until: datetime,
        by: str,
        reason: str = "",
        now: datetime | None = None,
    ) -> MaintenanceWindow:
        """Put ``target`` (a device id or "site") in maintenance until ``until``;
        replaces the target's current window."""
        now = now or datetime.now(UTC)
        self._check_target(target)
        if until.tzinfo is None:
            raise MaintenanceError("the end time needs a time zone (e.g. 2026-01-05T14:00Z)")
        if until <= now:
            raise MaintenanceError(f"the end time {_rfc3339(until)} is in the past")
        if until - now > self.max_duration:
            raise MaintenanceError(
                f"maintenance may last at most {_human(self.max_duration)};"
                f" {_rfc3339(until)} is {_human(until - now)} away"
            )
        by, reason = by.strip(), reason.strip()
        if not by:
            raise MaintenanceError("say who sets maintenance (by)")
        if len(by) > MAX_TEXT or len(reason) > MAX_TEXT:
            raise MaintenanceError(f"by and reason are at most {MAX_TEXT} characters")
        # Whole seconds: what people set and read back.
        until, set_at = until.astimezone(UTC).replace(microsecond=0), now.replace(microsecond=0)
        window = MaintenanceWindow(target, until, by, reason, set_at)
        with self._locked(now) as windows:
            windows[target] = window
        return window

    def clear_maintenance(self, target: str, now: datetime | None = None) -> MaintenanceWindow:
        """End ``target``'s maintenance now; returns the window that was ended."""
        now = now or datetime.now(UTC)
        self._check_target(target)
        with self._locked(now) as windows:
            window = windows.get(target)
            if window is None or window.until <= now:
                raise MaintenanceError(f"{_name(target)} is not in maintenance")
            del windows[target]
        return window

    def maintenance(self, now: datetime | None = None) -> list[MaintenanceWindow]:
        """The windows that have not ended, site first, then by device id."""
        now = now or datetime.now(UTC)
        live = [w for w in self.windows.values() if w.until > now]
        return sorted(live, key=lambda w: (w.target != SITE, w.target))

    # -- for the correlation stage ----------------------------------------------------

    def window_for(self, device: str, now: datetime) -> MaintenanceWindow | None:
        """The window that covers ``device`` at ``now`` (the site's counts for every
        device and for the gateway itself), or None."""
        for target in (device, SITE) if device != GATEWAY else (SITE,):
            window = self.windows.get(target)
            if window is not None and window.covers(device, now):
                return window
        return None

    def reload_if_changed(self) -> bool:
        """Read the file again if another process changed it; True when it did."""
        stamp = self._file_stamp()
        if stamp == self._stamp:
            return False
        self.windows = self._read()
        self._stamp = stamp
        return True

    # -- the file ---------------------------------------------------------------------

    def _check_target(self, target: str) -> None:
        if target != SITE and target not in self.devices:
            known = ", ".join(sorted(self.devices)[:10])
            raise MaintenanceError(
                f"no device {target!r} in this site (give a device id or 'site'; devices: "
                f"{known}{', ...' if len(self.devices) > 10 else ''})"
            )

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise MaintenanceStoreError(f"{self.path}: {exc.strerror}") from exc
        return (info.st_mtime_ns, info.st_size, info.st_ino)

    def _read(self) -> dict[str, MaintenanceWindow]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise MaintenanceStoreError(f"{self.path}: {exc.strerror}") from exc
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or data.get("schema") != SCHEMA_ID:
                raise ValueError(f"not a {SCHEMA_ID} file")
            windows = [MaintenanceWindow.from_json(w) for w in data["windows"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise MaintenanceStoreError(f"{self.path}: malformed: {exc}") from exc
        return {w.target: w for w in windows}

    @contextlib.contextmanager
    def _locked(self, now: datetime) -> Iterator[dict[str, MaintenanceWindow]]:
        """Read the file under an exclusive lock, let the caller change the windows,
        and write them back atomically (ended windows are dropped)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            self._give_to_state_owner(self.lock_path)
        except OSError as exc:
            raise MaintenanceStoreError(f"{self.lock_path}: {exc.strerror}") from exc
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            windows = self._read()
            yield windows
            live = {t: w for t, w in windows.items() if w.until > now}
            self._write(live)
            self.windows = live
            self._stamp = self._file_stamp()
        finally:
            os.close(lock)  # closing releases the lock

    def _write(self, windows: dict[str, MaintenanceWindow]) -> None:
        body = {
            "schema": SCHEMA_ID,
            "windows": [windows[t].to_json() for t in sorted(windows)],
        }
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with temporary.open("w", encoding="utf-8") as out:
                json.dump(body, out, indent=2)
                out.write("\n")
                out.flush()
                os.fsync(out.fileno())
            self._give_to_state_owner(temporary)
            temporary.replace(self.path)
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise MaintenanceStoreError(f"{self.path}: cannot write: {exc.strerror}") from exc

    def _give_to_state_owner(self, path: Path) -> None:
        """Files root creates (``lvgw maintenance`` run as root) go to the owner of the
        state directory, so that the agent's own user can still change them."""
        if os.geteuid() != 0:
            return
        owner = self.path.parent.stat()
        if owner.st_uid != 0 or owner.st_gid != 0:
            os.chown(path, owner.st_uid, owner.st_gid)


_DURATION: TypeAdapter[float] = TypeAdapter(Duration)


def end_time(now: datetime, until: str | None = None, span: str | float | None = None) -> datetime:
    """The end of a maintenance window from either an RFC 3339 time or a duration
    ("2h", "90m", seconds), as people type them."""
    if (until is None) == (span is None):
        raise MaintenanceError("give either an end time (until) or a duration (for), not both")
    if until is not None:
        try:
            return _parse_time(until)
        except (TypeError, ValueError):
            raise MaintenanceError(
                f"not a time with a time zone: {until!r} (e.g. 2026-01-05T14:00:00+08:00)"
            ) from None
    try:
        seconds = _DURATION.validate_python(span)
    except ValidationError:
        raise MaintenanceError(f"not a duration: {span!r} (e.g. 90m, 2h, 1d)") from None
    if seconds > _FAR_TOO_LONG:  # 1e300, "99999999999999999999d"
        raise MaintenanceError(f"not a usable duration: {span!r} is far too long")
    return now + timedelta(seconds=seconds)


def _name(target: str) -> str:
    return "the site" if target == SITE else f"device {target!r}"


def _human(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min")) if n]
    return " ".join(parts) or "under a minute"
