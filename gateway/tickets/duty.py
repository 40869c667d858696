"""The duty calendar: deadlines count only the service center's duty hours.

The default is round the clock. A site that is served 08:00-22:30 (the rules'
on-call hours) sets ``site.clocks.duty``; a fault at 23:00 then has its 10-minute
response due at 08:10 the next duty day.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, time, timedelta

from gateway.config.site import WEEK, Duty


def _clock(text: str) -> timedelta:
    hours, minutes = text.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes))


class DutyCalendar:
    def __init__(self, duty: Duty | None) -> None:
        self.duty = duty
        if duty is not None:
            self.zone = zoneinfo.ZoneInfo(duty.timezone)
            self.days = {WEEK.index(d) for d in duty.days}
            self.start, self.end = _clock(duty.start), _clock(duty.end)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of duty time has passed after ``start``."""
        if self.duty is None:
            return start + duration
        local = start.astimezone(self.zone)
        left = duration
        day = local.date()
        for _ in range(3700):  # ten years of days: ends any loop on a strange calendar
            if day.weekday() in self.days:
                midnight = datetime.combine(day, time(0), self.zone)
                open_at, close_at = midnight + self.start, midnight + self.end
                begin = max(open_at, local)
                if begin < close_at:
                    available = close_at - begin
                    if left <= available:
                        return (begin + left).astimezone(UTC)
                    left -= available
            day += timedelta(days=1)
            local = datetime.combine(day, time(0), self.zone)
        raise ValueError("the duty calendar has no duty time")
