"""The maintenance gate: no new tickets while a device (or the site) is in maintenance.

- An active condition of a device in maintenance with no ticket open is held.
- A condition that passes while its device is in maintenance (an update or the
  clear of a ticket opened before) carries ``maintenance=True``.
- A held condition that clears vanishes: nobody is told of a fault that came and
  went during the work.
- When maintenance ends, held conditions are passed on, their ``since`` moved to
  the end of maintenance: the service clocks start when the service center hears
  of the fault, not while a technician was working on the device (the evidence
  keeps the original reading times).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from gateway.correlate.maintenance import MaintenanceStore
from gateway.model import Condition

log = logging.getLogger("lvgw.correlate")

Key = tuple[str, str, str]


class MaintenanceGate:
    def __init__(self, store: MaintenanceStore, open_keys: Iterable[Key] = ()) -> None:
        self.store = store
        # Passed on as active (or open in the ticket book since before a restart).
        self.open: set[Key] = set(open_keys)
        self.held: dict[Key, Condition] = {}

    def admit(self, condition: Condition, now: datetime) -> list[Condition]:
        """What of ``condition`` passes on at ``now``."""
        key = condition.key
        window = self.store.window_for(condition.device, now)
        if condition.active:
            if key in self.open:
                return [replace(condition, maintenance=window is not None)]
            if window is not None:
                if key not in self.held:
                    log.info(
                        "condition held for maintenance device=%s fault=%s until=%s by=%s",
                        condition.device, condition.code, window.until.isoformat(), window.by,
                    )  # fmt: skip
                self.held[key] = condition
                return []
            self.open.add(key)
            return [condition]
        if self.held.pop(key, None) is not None:
            log.info(
                "held condition cleared during maintenance device=%s fault=%s",
                condition.device, condition.code,
            )  # fmt: skip
            return []
        if key in self.open:
            self.open.discard(key)
            return [replace(condition, maintenance=window is not None)]
        return []

    def release(self, now: datetime) -> list[Condition]:
        """Held conditions whose device is no longer in maintenance at ``now``."""
        out: list[Condition] = []
        for key in sorted(self.held):
            condition = self.held[key]
            if self.store.window_for(condition.device, now) is None:
                del self.held[key]
                self.open.add(key)
                out.append(replace(condition, since=max(condition.since, now)))
        return out
