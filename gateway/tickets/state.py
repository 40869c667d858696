"""The state of one open ticket, as the ticket book keeps and persists it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from gateway.model import Level


@dataclass(slots=True)
class OpenTicket:
    ticket_id: str
    device: str
    code: str
    instance: str
    level: Level
    title: str
    opened_at: datetime  # when the fault occurred: the clocks start here
    seq: int
    related: tuple[str, ...] = ()
    maintenance: bool = False
    acked_by: str | None = None
    acked_at: datetime | None = None
    reminders: int = 0
    next_reminder_at: datetime | None = None
    # The deadlines of the current level (the book sets them at open and when the
    # level changes); None on a ticket stored by an older version until it loads.
    response_due: datetime | None = None
    onsite_due: datetime | None = None
    loaner_due: datetime | None = None
    # The service center's technician on site (acks ``arrived`` / ``departed``).
    arrived_by: str | None = None
    arrived_at: datetime | None = None
    departed_at: datetime | None = None
    onsite_reminders: int = 0
    next_onsite_reminder_at: datetime | None = None
    # Seen raised by this process's rules; False for a ticket loaded at start-up
    # until its condition is confirmed again (or found cleared).
    confirmed: bool = True
    polls_since_load: int = 0

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.device, self.code, self.instance)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name, value in data.items():
            if isinstance(value, datetime):
                data[name] = value.isoformat()
        data["level"] = int(self.level)
        data["related"] = list(self.related)
        del data["confirmed"], data["polls_since_load"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OpenTicket:
        """A stored ticket; fields a older version did not store take their defaults."""
        times = {f.name for f in fields(cls) if "datetime" in str(f.type)}
        known = {f.name for f in fields(cls)} - {"confirmed", "polls_since_load"}
        values: dict[str, Any] = {}
        for name in known & set(data):
            value = data[name]
            if name in times:
                value = datetime.fromisoformat(value) if value else None
            values[name] = value
        values["level"] = Level(data["level"])
        values["related"] = tuple(data.get("related", ()))
        values["seq"] = int(data["seq"])
        return cls(**values, confirmed=False)
