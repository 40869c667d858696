"""What the receiver knows of each panel: the latest value of every point the events
set, kept across restarts.

A DC-09 panel reports changes, and nobody can ask it again: mains lost stays lost
until the panel reports it restored. The latched values are the panel's state; a
gateway restart must not forget them, or a ticket open for a fault that still stands
would be resolved at the next start. They are written to ``<state_dir>/sia.json``
(atomically) after every change.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from drivers.sia.receiver import Message
from gateway.model import Reading, Value
from gateway.protocols.sia.mapping import EventMap

log = logging.getLogger("lvgw.sia")

STATE_FILE = "sia.json"
MAX_ROWS = 1024  # zones a panel may have: a DC-03 number has at most four digits


class PanelState:
    """One panel's latched readings, by (point, instance)."""

    def __init__(self, device: str, events: EventMap) -> None:
        self.device = device
        self.events = events
        self.values: dict[tuple[str, str], tuple[Value, datetime]] = {}
        self.rows: dict[str, set[str]] = {}  # table -> instances seen
        self.last_message: datetime | None = None

    def apply(self, message: Message) -> list[Reading]:
        """The readings ``message`` gives (each at the message's reception time)."""
        at = message.received
        out: list[Reading] = []
        for target in self.events.every_message:
            out.append(self._set(target.point, "", target.value(None), at))
        for event in message.events:
            for target, instance in self.events.targets(event):
                if target.table is not None:
                    out += self._row(target.table, instance, at)
                out.append(self._set(target.point, instance, target.value(event), at))
        self.last_message = at
        return out

    def _row(self, table: str, instance: str, at: datetime) -> list[Reading]:
        """A zone seen for the first time gets its columns' initial values."""
        rows = self.rows.setdefault(table, set())
        if instance in rows or len(rows) >= MAX_ROWS:
            return []
        rows.add(instance)
        initial = self.events.row_initial.get(table, {})
        return [self._set(point, instance, value, at) for point, value in initial.items()]

    def _set(self, point: str, instance: str, value: Value, at: datetime) -> Reading:
        self.values[(point, instance)] = (value, at)
        return Reading(self.device, point, value, at, instance)

    def snapshot(self, now: datetime, window: float) -> list[Reading]:
        """Every point's value now: the latched ones (an "every message" point at the
        time of the last message, so its age is the panel's silence), the initial
        values of points no event set yet, and the report window."""
        every = {t.point for t in self.events.every_message}
        out = [
            Reading(self.device, point, value, at if point in every else now, instance)
            for (point, instance), (value, at) in self.values.items()
        ]
        out += [
            Reading(self.device, point, value, now)
            for point, value in self.events.initial.items()
            if (point, "") not in self.values
        ]
        out += [Reading(self.device, point, window, now) for point in self.events.windows]
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "values": [
                [point, instance, value, at.isoformat()]
                for (point, instance), (value, at) in self.values.items()
            ],
            "rows": {table: sorted(rows) for table, rows in self.rows.items()},
        }

    def load(self, data: dict[str, Any]) -> None:
        for point, instance, value, at in data.get("values", []):
            self.values[(point, instance)] = (value, datetime.fromisoformat(at))
        for table, rows in data.get("rows", {}).items():
            self.rows[table] = set(rows)


def load_states(path: Path, states: dict[str, PanelState]) -> None:
    """Fill ``states`` from the file at ``path``; a missing or unreadable file is a
    fresh start (logged), not a failure."""
    try:
        data = json.loads(path.read_text())
        for device, saved in data.items():
            if device in states:
                states[device].load(saved)
    except FileNotFoundError:
        return
    except (OSError, ValueError, TypeError, KeyError) as exc:
        log.warning("DC-09 panel states not restored path=%s error=%r", path, exc)


def save_states(path: Path, states: dict[str, PanelState]) -> None:
    """Write every panel's state to ``path`` atomically (temp file, fsync, rename)."""
    data = {device: state.to_json() for device, state in states.items()}
    temp = path.with_name(path.name + ".tmp")
    with temp.open("w") as out:
        json.dump(data, out)
        out.flush()
        os.fsync(out.fileno())
    temp.replace(path)
