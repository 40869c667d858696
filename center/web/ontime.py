"""The on-time rate (seed 002: 服务及时率 >= 90 %): per month, per customer and
overall, the response and the on-site visit apart, from the ledger's on-time record
of each ticket, with the tickets that missed.

A ticket counts in the month it occurred, in the center's reporting time zone
(``web.timezone``, UTC unless set). A deadline counts once it is
decided: met (``true``) or passed undone (``false``); one still running, or a visit
that was never due (``null``), is not counted. Notices (an inspection due, the
contract's end) have no service clock and are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, tzinfo

from center.web.html import escape, q, stamp
from center.web.tickets import TicketView
from gateway.tickets.terms import NOTICE_CODES

TARGET = 0.90


def month_of(t: TicketView, tz: tzinfo = UTC) -> str | None:
    return t.occurred_at.astimezone(tz).strftime("%Y-%m") if t.occurred_at else None


def services(tickets: Iterable[TicketView]) -> list[TicketView]:
    """The tickets with a service clock (not the notices)."""
    return [t for t in tickets if t.fault_code not in NOTICE_CODES]


@dataclass
class Rate:
    met: int = 0
    decided: int = 0

    def add(self, verdict: bool | None) -> None:
        if verdict is not None:
            self.decided += 1
            self.met += int(verdict)

    def text(self) -> str:
        if not self.decided:
            return "- (none decided)"
        return f"{100 * self.met / self.decided:.1f} % ({self.met}/{self.decided})"

    @property
    def below_target(self) -> bool:
        return self.decided > 0 and self.met < TARGET * self.decided


@dataclass
class Rates:
    response: Rate = field(default_factory=Rate)
    onsite: Rate = field(default_factory=Rate)

    def add(self, t: TicketView) -> None:
        self.response.add(t.on_time_response)
        self.onsite.add(t.on_time_onsite)


@dataclass
class MonthRates:
    month: str
    overall: Rates
    customers: dict[str, Rates]
    missed: list[TicketView]


def rates(tickets: Sequence[TicketView], month: str, tz: tzinfo = UTC) -> MonthRates:
    overall = Rates()
    customers: dict[str, Rates] = {}
    missed = []
    for t in services(tickets):
        if month_of(t, tz) != month:
            continue
        overall.add(t)
        customers.setdefault(t.customer or "-", Rates()).add(t)
        if t.on_time_response is False or t.on_time_onsite is False:
            missed.append(t)
    missed.sort(key=lambda t: (t.occurred_at, t.ticket_id))
    return MonthRates(month, overall, dict(sorted(customers.items())), missed)


def months(tickets: Iterable[TicketView], tz: tzinfo = UTC) -> list[str]:
    return sorted({m for t in services(tickets) if (m := month_of(t, tz))}, reverse=True)


def _missed_what(t: TicketView) -> str:
    what = []
    if t.on_time_response is False:
        what.append("response")
    if t.on_time_onsite is False:
        what.append("on site")
    return " and ".join(what)


def rate_lines(r: MonthRates) -> list[str]:
    """The month as text (the golden tests')."""
    lines = [
        f"month {r.month}",
        f"overall | response {r.overall.response.text()} | on site {r.overall.onsite.text()}",
    ]
    for customer, c in r.customers.items():
        lines.append(f"{customer} | response {c.response.text()} | on site {c.onsite.text()}")
    for t in r.missed:
        lines.append(f"missed {t.ticket_id} | {t.customer} | {t.site_id} | L{t.severity}"
                     f" | {_missed_what(t)}")  # fmt: skip
    return lines


def _cell(rate: Rate) -> str:
    css = ' class="num late"' if rate.below_target else ' class="num"'
    return f"<td{css}>{escape(rate.text())}</td>"


def ontime_page(tickets: Sequence[TicketView], month: str, tz: tzinfo = UTC) -> str:
    r = rates(tickets, month, tz)
    choices = "".join(
        f'<a href="/ontime?month={q(m)}">{escape(m)}</a> ' for m in months(tickets, tz)
    )
    rows = [f"<tr><th>All customers</th>{_cell(r.overall.response)}{_cell(r.overall.onsite)}</tr>"]
    rows += [
        f'<tr><td><a href="/customers/{q(c)}/monthly?month={q(month)}">{escape(c)}</a></td>'
        f"{_cell(rates_.response)}{_cell(rates_.onsite)}</tr>"
        for c, rates_ in r.customers.items()
    ]
    missed = "".join(
        f'<tr class="row{t.severity or 0}" data-ticket="{escape(t.ticket_id)}">'
        f"<td>{escape(t.ticket_id)}</td><td>{escape(t.customer or '-')}</td>"
        f'<td><a href="/sites/{q(t.site_id)}">{escape(t.site_id)}</a></td>'
        f"<td>L{t.severity}</td><td>{escape(t.title or '')}</td>"
        f"<td>{escape(stamp(t.occurred_at))}</td><td>{escape(_missed_what(t))}</td></tr>"
        for t in r.missed
    )
    return (
        f'<p>Months: {choices or "none yet"}</p>'
        f"<h2>{escape(month)}: on time, target {TARGET:.0%}</h2>"
        '<table id="rates"><tr><th>Customer</th><th>Response</th><th>On site</th></tr>'
        + "".join(rows) + "</table>"
        + '<h2>Missed</h2>'
        + ('<table id="missed"><tr><th>Ticket</th><th>Customer</th><th>Site</th><th>Level</th>'
           "<th>Title</th><th>Occurred</th><th>Missed</th></tr>" + missed + "</table>"
           if missed else '<p class="muted">None missed.</p>')
        + f'<p class="muted">A ticket counts in the month ({escape(str(tz))}) it occurred;'
        " a deadline once"
        " met or passed undone; notices (inspections due, contract end) are left out.</p>"
    )  # fmt: skip
