"""Response, on-site and loaner deadlines of the service rules (docs/faults.md).

Defaults, per level (seed 000): respond within 10 min / 1 h / 2 h / 2 h; be on site
within 2 h (level 1, main urban area) / 48 h / 72 h / no visit (level 4 is resolved
remotely). A suburban site adds the dispatch difference of the rules (7 h instead of
6 h from call to arrival: +1 h) to the fast visit, level 1's, only. An annual
contract's loaner is due 48 h after a fault that is not repaired (seed 003).

With a duty calendar, responses and the level-1 visit count duty time; the multi-day
windows (the other visits, the loaner) are calendar hours, and a deadline that falls
where nobody is on duty moves to the next duty start. A site's ``clocks:`` section
overrides any of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

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
LOANER_AFTER = timedelta(hours=48)
REMINDER_CAP = timedelta(hours=24)
# The fast visit ("the fastest transport"): counted in duty time, with the zone's
# dispatch difference. Other visits are plain hours ("12-48小时内抵达现场", "72小时").
FAST_VISIT = Level.L1


@dataclass(frozen=True, slots=True)
class ServiceClocks:
    zone: SiteZone = SiteZone.URBAN
    response: Mapping[Level, timedelta] = field(default_factory=lambda: dict(DEFAULT_RESPONSE))
    onsite: Mapping[Level, timedelta | None] = field(default_factory=lambda: dict(DEFAULT_ONSITE))
    suburban_extra: timedelta = SUBURBAN_EXTRA
    duty: DutyCalendar = field(default_factory=lambda: DutyCalendar(None))
    loaner_after: timedelta = LOANER_AFTER
    reminder_cap: timedelta = REMINDER_CAP

    @classmethod
    def for_site(
        cls, zone: SiteZone, overrides: Clocks, timezone: ZoneInfo | None = None
    ) -> ServiceClocks:
        """The clocks of a site: its zone, its ``clocks:`` section, its time zone."""
        response = dict(DEFAULT_RESPONSE)
        response.update({lvl: timedelta(seconds=s) for lvl, s in overrides.response.items()})
        onsite = dict(DEFAULT_ONSITE)
        onsite.update(
            {
                lvl: None if s is None else timedelta(seconds=s)
                for lvl, s in overrides.onsite.items()
            }
        )
        return cls(
            zone,
            response,
            onsite,
            _seconds(overrides.suburban_extra, SUBURBAN_EXTRA),
            DutyCalendar(overrides.duty, timezone),
            _seconds(overrides.loaner_after, LOANER_AFTER),
            _seconds(overrides.reminder_cap, REMINDER_CAP),
        )

    def response_due(self, level: Level, start: datetime) -> datetime:
        """Duty time: the service center answers while it is on duty."""
        return self.duty.add(start, self.response[level])

    def reminder_after(self, level: Level, reminders_sent: int) -> timedelta:
        """Gap before the next reminder: the response time, doubling, up to the cap."""
        gap: timedelta = self.response[level] * (2**reminders_sent)
        return min(gap, self.reminder_cap)

    def onsite_due(self, level: Level, start: datetime) -> datetime | None:
        onsite = self.onsite[level]
        if onsite is None:
            return None
        if level is not FAST_VISIT:
            return self.duty.next_on_duty(start + onsite)
        if self.zone is SiteZone.SUBURBAN:
            onsite += self.suburban_extra
        return self.duty.add(start, onsite)

    def loaner_due(self, start: datetime) -> datetime:
        """Calendar hours after the fault, moved into duty hours."""
        return self.duty.next_on_duty(start + self.loaner_after)


def _seconds(configured: float | None, default: timedelta) -> timedelta:
    return default if configured is None else timedelta(seconds=configured)
