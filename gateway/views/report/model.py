"""The pre-visit report as data: what the renderers (Markdown, HTML) lay out."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from gateway.i18n import DEFAULT_LOCALE


class Mark(enum.StrEnum):
    """How a checklist item stands."""

    OK = "ok"
    ATTENTION = "attention"  # measured, and something to look at or fix
    NOT_MEASURED = "not measured"  # no data: check it on site


@dataclass(frozen=True, slots=True)
class Item:
    """One line of the inspection sheet, pre-filled."""

    task: str  # the sheet's wording
    mark: Mark
    finding: str  # what was measured, or why not


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class Trend:
    """One series over the trend window: where it is, where it went, where it heads."""

    point: str
    instance: str
    unit: str
    last: str
    low: str
    high: str
    per_day: str  # the fitted slope, or "-" when there is no trusted trend
    outlook: str  # the forecast in words, or ""
    title: str = ""  # what the series is, by its meaning ("Battery charge"); "" for none


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    id: str
    name: str
    kind: str
    address: str
    state: str  # up, DOWN, not polled
    worst_level: int | None
    last_poll: str
    availability: str  # share of polls answered over the trend window, or "not measured"
    readings: str  # the latest readings by point name (in the JSON; the pages show the summary)
    trends: tuple[Trend, ...] = ()
    summary: str = ""  # the headline figures, as on the status page (gateway/present/summary.py)


@dataclass(frozen=True, slots=True)
class TicketLine:
    ticket_id: str
    severity: int
    device: str
    title: str
    since: str  # local time
    status: str  # countdowns or "resolved after ..."


@dataclass(frozen=True, slots=True)
class Report:
    title: str
    generated_at: str  # local time, with the zone
    zone: str
    site: tuple[tuple[str, str], ...]  # (label, value) rows: site, customer, contract
    status_note: str  # where the device states came from, and how fresh they are
    open_tickets: tuple[TicketLine, ...]
    recent_tickets: tuple[TicketLine, ...]
    recent_days: int
    devices: tuple[DeviceHealth, ...]
    checklist: tuple[Section, ...]
    bring_along: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())
    locale: str = DEFAULT_LOCALE  # the language it is written in (headings of md and html)
