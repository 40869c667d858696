"""Dates of the contract's schedule: preventive inspections and the expiry notice.

Inspections fall every ``every_months`` months on the contract's anniversary day: for
a contract ending 2027-06-30, the contract year starts 2026-07-01 and quarterly
inspections are due on 07-01, 10-01, 01-01 and 04-01. Without an end date, they fall
on calendar periods from January 1st. The expiry notice is due one calendar month
before the contract ends (domain rules: the customer is told a month ahead).
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gateway.config.site import ContractType, Site

DEFAULT_INSPECTION_MONTHS = {ContractType.ANNUAL: 3}  # quarterly; other contracts: none


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def inspection_months(site: Site) -> int | None:
    """Months between inspections for this site's contract; None when it has none."""
    configured = site.contract.inspection_every_months
    if configured is not None:
        return configured
    return DEFAULT_INSPECTION_MONTHS.get(site.contract.type)


def latest_inspection_due(site: Site, today: date) -> date | None:
    """The most recent inspection due date on or before ``today``; None when the
    contract has no inspections or has ended."""
    every = inspection_months(site)
    ends = site.contract.ends
    if every is None or (ends is not None and today > ends):
        return None
    anchor = ends + timedelta(days=1) if ends is not None else date(today.year, 1, 1)
    steps = (_month_index(today) - _month_index(anchor)) // every
    due = add_months(anchor, steps * every)
    if due > today:
        due = add_months(anchor, (steps - 1) * every)
    return due


def next_inspection_due(site: Site, today: date) -> date | None:
    """The first inspection due date after ``today`` within the contract, if any."""
    every = inspection_months(site)
    latest = latest_inspection_due(site, today)
    if every is None or latest is None:
        return None
    following = add_months(latest, every)
    ends = site.contract.ends
    return None if ends is not None and following > ends else following


def expiry_notice_day(site: Site) -> date | None:
    """The day the expiry notice is due: one month before the contract ends."""
    ends = site.contract.ends
    return None if ends is None else add_months(ends, -1)


def site_zone(site: Site) -> ZoneInfo:
    """The site's local time zone: ``site.timezone`` (else its duty calendar's, else UTC)."""
    return site.local_zone


def local_day(site: Site, now: datetime) -> date:
    return now.astimezone(site_zone(site)).date()


def local_midnight(site: Site, day: date) -> datetime:
    """The start of ``day`` in the site's time zone, as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=site_zone(site))
