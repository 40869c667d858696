"""Response and on-site deadlines of the service rules (docs/faults.md, domain rules).

Defaults, per level: respond within 10 min / 1 h / 2 h / 2 h; be on site within
2 h (level 1, main urban area) / 48 h / 72 h / no visit (level 4 is resolved
remotely). A suburban site adds the dispatch difference of the rules (7 h instead
of 6 h from call to arrival: +1 h). A site's ``clocks:`` section overrides any of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gateway.config.site import Clocks, SiteZone
from gateway.model import Level

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
        return cls(zone, response, onsite, extra)

    def response_due(self, level: Level, occurred_at: datetime) -> datetime:
        return occurred_at + self.response[level]

    def onsite_due(self, level: Level, occurred_at: datetime) -> datetime | None:
        onsite = self.onsite[level]
        if onsite is None:
            return None
        if self.zone is SiteZone.SUBURBAN:
            onsite += self.suburban_extra
        return occurred_at + onsite
