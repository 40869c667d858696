"""The duty calendar: when the service center is on duty, in the site's time zone.

The default is round the clock. A site that sets ``site.clocks.duty`` (``{}`` gives
the rules' on-call hours, 08:00-22:30 every day, seed 003) has two kinds of clock:

- duty time (`add`): only duty hours count; a fault at 23:00 has its 10-minute
  response due at 08:10 the next morning;
- calendar hours moved into duty (`next_on_duty`): a 48-hour window is 48 real
  hours, and a deadline that falls where nobody is on duty moves to the next start.

All arithmetic is on UTC instants; local wall times only mark where duty periods
begin and end, so a daylight-saving change is counted as the hour it really is.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gateway.config.site import WEEK, Duty

# Ten years of days: ends any search on a calendar with (impossibly) no duty day.
_MAX_DAYS = 3700


def _clock(text: str) -> tuple[int, time]:
    """``HH:MM`` as (days to add, time of day): ``24:00`` is the next day's midnight."""
    hours, minutes = (int(part) for part in text.split(":"))
    return (1, time(0)) if hours == 24 else (0, time(hours, minutes))


class DutyCalendar:
    def __init__(self, duty: Duty | None, zone: ZoneInfo | None = None) -> None:
        self.duty = duty
        self.zone = zone or ZoneInfo("UTC")
        if duty is not None:
            if duty.timezone is not None:
                self.zone = ZoneInfo(duty.timezone)
            self.days = {WEEK.index(d) for d in duty.days}
            self.start, self.end = _clock(duty.start), _clock(duty.end)

    def _instant(self, day: date, at: tuple[int, time]) -> datetime:
        local = datetime.combine(day + timedelta(days=at[0]), at[1], tzinfo=self.zone)
        return local.astimezone(UTC)

    def periods(self, after: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Duty periods (UTC start, UTC end) that end after ``after``, in order."""
        day = after.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(_MAX_DAYS):
            if day.weekday() in self.days:
                opens, closes = self._instant(day, self.start), self._instant(day, self.end)
                if closes > after:
                    yield opens, closes
            day += timedelta(days=1)
        raise ValueError("the duty calendar has no duty time")

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of duty time has passed after ``start``."""
        if self.duty is None:
            return start + duration
        left = duration
        for opens, closes in self.periods(start):
            begin = max(opens, start)
            if left <= closes - begin:
                return begin + left
            left -= closes - begin
        raise AssertionError("unreachable: periods() raises when it runs out")

    def next_on_duty(self, at: datetime) -> datetime:
        """``at`` if someone is on duty then (a period's end included), else the start of
        the next duty period."""
        if self.duty is None:
            return at
        for opens, _closes in self.periods(at - timedelta(microseconds=1)):
            return max(opens, at)
        raise AssertionError("unreachable: periods() raises when it runs out")

    def describe(self) -> str:
        """In words, for the clocks command: ``every day 08:00-22:30 (Asia/Shanghai)``."""
        if self.duty is None:
            return "round the clock"
        days = self.duty.days
        named = "every day" if len(set(days)) == 7 else ", ".join(days)
        return f"{named} {self.duty.start}-{self.duty.end} ({self.zone.key})"
