"""Response and on-site deadlines of the service rules (docs/faults.md, domain rules).

Defaults, per level: respond within 10 min / 1 h / 2 h / 2 h; be on site within
2 h (level 1, main urban area) / 48 h / 72 h / no visit (level 4 is resolved
remotely). A suburban site adds the dispatch difference of the rules (7 h instead
of 6 h from call to arrival: +1 h). Deadlines count duty time only (default: round
the clock). A site's ``clocks:`` section overrides any of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gateway.config.site import Clocks, SiteZone
from gateway.model import Level
from gateway.tickets.duty import DutyCalendar

DEFAULT_RESPONSE: Mapping[Level, timedelta] = {
    Level.L1: timedelta(minutes=10),
    Level.L2: timedelta(hours=1),
    Level.L3: timedelta(hours=2),
    Level.L4: timedelta(hours=2),
}
DEFAULT_ONSITE: Mapping[Level, timedelta | None] = {
    Level.L1: timedelta(hours=2),
    Level.L2: timedelta(hours=48),
    Level.L3: timedelta(hours=72),
    Level.L4: None,
}
SUBURBAN_EXTRA = timedelta(hours=1)  # dispatch: 6 h in the city, 7 h in the suburbs


@dataclass(frozen=True, slots=True)
class ServiceClocks:
    zone: SiteZone = SiteZone.URBAN
    response: Mapping[Level, timedelta] = field(default_factory=lambda: dict(DEFAULT_RESPONSE))
    onsite: Mapping[Level, timedelta | None] = field(default_factory=lambda: dict(DEFAULT_ONSITE))
    suburban_extra: timedelta = SUBURBAN_EXTRA
    duty: DutyCalendar = field(default_factory=lambda: DutyCalendar(None))
    loaner_after: timedelta = timedelta(hours=48)
    reminder_cap: timedelta = timedelta(hours=24)

    @classmethod
    def for_site(cls, zone: SiteZone, overrides: Clocks) -> ServiceClocks:
        response = dict(DEFAULT_RESPONSE)
        response.update({lvl: timedelta(seconds=s) for lvl, s in overrides.response.items()})
        onsite = dict(DEFAULT_ONSITE)
        onsite.update(
            {
                lvl: None if s is None else timedelta(seconds=s)
                for lvl, s in overrides.onsite.items()
            }
        )
        extra = SUBURBAN_EXTRA
        if overrides.suburban_extra is not None:
            extra = timedelta(seconds=overrides.suburban_extra)
        return cls(
            zone,
            response,
            onsite,
            extra,
            DutyCalendar(overrides.duty),
            timedelta(seconds=overrides.loaner_after),
            timedelta(seconds=overrides.reminder_cap),
        )

    def response_due(self, level: Level, occurred_at: datetime) -> datetime:
        return self.duty.add(occurred_at, self.response[level])

    def reminder_after(self, level: Level, reminders_sent: int) -> timedelta:
        """Gap before the next reminder: the response time, doubling, up to the cap."""
        gap: timedelta = self.response[level] * (2**reminders_sent)
        return min(gap, self.reminder_cap)

    def onsite_due(self, level: Level, occurred_at: datetime) -> datetime | None:
        onsite = self.onsite[level]
        if onsite is None:
            return None
        if self.zone is SiteZone.SUBURBAN:
            onsite += self.suburban_extra
        return self.duty.add(occurred_at, onsite)
