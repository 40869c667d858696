"""The state of one open ticket, as the ticket book keeps and persists it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
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
    # Seen raised by this process's rules; False for a ticket loaded at start-up
    # until its condition is confirmed again (or found cleared).
    confirmed: bool = True
    polls_since_load: int = 0

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.device, self.code, self.instance)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("opened_at", "acked_at", "next_reminder_at"):
            value = data[name]
            data[name] = value.isoformat() if value is not None else None
        data["level"] = int(self.level)
        data["related"] = list(self.related)
        del data["confirmed"], data["polls_since_load"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OpenTicket:
        def when(name: str) -> datetime | None:
            value = data.get(name)
            return datetime.fromisoformat(value) if value else None

        opened = when("opened_at")
        assert opened is not None
        return cls(
            ticket_id=data["ticket_id"],
            device=data["device"],
            code=data["code"],
            instance=data["instance"],
            level=Level(data["level"]),
            title=data["title"],
            opened_at=opened,
            seq=int(data["seq"]),
            related=tuple(data.get("related", ())),
            maintenance=bool(data.get("maintenance", False)),
            acked_by=data.get("acked_by"),
            acked_at=when("acked_at"),
            reminders=int(data.get("reminders", 0)),
            next_reminder_at=when("next_reminder_at"),
            confirmed=False,
        )
