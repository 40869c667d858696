"""What one poll of one device produced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.model import Reading


@dataclass(frozen=True, slots=True)
class PollResult:
    """The readings of one poll; ``reachable`` False when the device did not answer."""

    device: str
    ts: datetime
    reachable: bool
    readings: tuple[Reading, ...]
    error: str = ""  # why the poll failed, for logs and status
    # "poll": a full read of the device's profile. "trap": only the readings a
    # notification carried (the device is alive, other points were not read).
    source: str = "poll"
