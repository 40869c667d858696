"""The dispatch board: every open ticket of every site, overdue first, with the time
left to its response and on-site deadlines (ticking in the browser), filters by
level, site and customer, and the acknowledge / arrived / departed buttons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from center.web.html import badge, countdown, csrf_field, escape, met, q, stamp
from center.web.tickets import TicketView, board
from gateway.views.status import _countdown


@dataclass(frozen=True, slots=True)
class Filters:
    level: int | None = None
    site: str | None = None
    customer: str | None = None

    def take(self, t: TicketView) -> bool:
        return (
            (self.level is None or t.severity == self.level)
            and (self.site is None or t.site_id == self.site)
            and (self.customer is None or t.customer == self.customer)
        )


def response_text(t: TicketView, now: datetime) -> str:
    if t.responded_at is not None:
        who = f" by {t.acknowledged_by}" if t.acknowledged_by else ""
        return f"responded {stamp(t.responded_at)}{who}"
    return _countdown(t.response_due, now)


def onsite_text(t: TicketView, now: datetime) -> str:
    if t.arrived_at is not None:
        left = f", left {stamp(t.departed_at)}" if t.departed_at else ""
        return f"arrived {stamp(t.arrived_at)}{left}"
    return _countdown(t.onsite_due, now)


def board_lines(tickets: Sequence[TicketView], now: datetime) -> list[str]:
    """The board as text, one ticket a line in the board's order (the golden tests')."""
    return [
        f"{t.ticket_id} | L{t.severity} | {t.site_id} | {t.customer} | "
        f"response {response_text(t, now)} | on site {onsite_text(t, now)}"
        + (" | OVERDUE" if t.overdue(now) else "")
        for t in board(tickets, now)
    ]


def _response_cell(t: TicketView, now: datetime) -> str:
    if t.responded_at is not None:
        who = f" by {escape(t.acknowledged_by)}" if t.acknowledged_by else ""
        return met(t.responded_at, t.on_time_response, "responded") + who
    return countdown(t.response_due, now)


def _onsite_cell(t: TicketView, now: datetime) -> str:
    if t.arrived_at is not None:
        left = f", left {escape(stamp(t.departed_at))}" if t.departed_at else ""
        return met(t.arrived_at, t.on_time_onsite, "arrived") + left
    return countdown(t.onsite_due, now)


def _actions(t: TicketView, csrf: str) -> str:
    buttons = []
    if t.acknowledged_at is None:
        buttons.append(("ack", "Acknowledge"))
    if t.arrived_at is None:
        buttons.append(("arrive", "Arrived"))
    elif t.departed_at is None:
        buttons.append(("depart", "Departed"))
    return "".join(
        f'<form class="act" method="post" action="/tickets/{q(t.ticket_id)}/{verb}">'
        f'{csrf_field(csrf)}<button type="submit" name="do" value="{verb}">{label}</button></form>'
        for verb, label in buttons
    )


def _select(name: str, current: str | None, options: Sequence[tuple[str, str]]) -> str:
    items = ['<option value="">all</option>'] + [
        f'<option value="{escape(v)}"{" selected" if v == current else ""}>{escape(t)}</option>'
        for v, t in options
    ]
    return f'<label>{name} <select name="{name}">{"".join(items)}</select></label> '


def board_page(
    tickets: Sequence[TicketView],
    now: datetime,
    filters: Filters,
    *,
    csrf: str,
    can_act: bool,
) -> str:
    sites = sorted({t.site_id for t in tickets})
    customers = sorted({t.customer for t in tickets if t.customer})
    form = (
        '<form class="filters" method="get" action="/board">'
        + _select("level", str(filters.level) if filters.level else None,
                  [(str(n), f"L{n}") for n in (1, 2, 3, 4)])
        + _select("site", filters.site, [(s, s) for s in sites])
        + _select("customer", filters.customer, [(c, c) for c in customers])
        + '<button type="submit">Filter</button></form>'
    )  # fmt: skip
    shown = board([t for t in tickets if filters.take(t)], now)
    if not shown:
        return form + '<p class="muted" id="no-tickets">No open tickets.</p>'
    rows = []
    for t in shown:
        overdue = " overdue-row" if t.overdue(now) else ""
        rows.append(
            f'<tr class="ticket row{t.severity or 0}{overdue}" data-ticket="{escape(t.ticket_id)}">'
            f"<td>{badge(t.severity)}</td>"
            f'<td><a href="/sites/{q(t.site_id)}">{escape(t.site_id)}</a>'
            f'<br><span class="muted">{escape(t.customer or "")}</span></td>'
            f'<td>{escape(t.title or "")}<br><span class="muted">{escape(t.device_id or "")}'
            f" · {escape(t.fault_code or '')} · since {escape(stamp(t.occurred_at))}</span></td>"
            f'<td class="response">{_response_cell(t, now)}</td>'
            f'<td class="onsite">{_onsite_cell(t, now)}</td>'
            f"<td>{_actions(t, csrf) if can_act else ''}</td></tr>"
        )
    return (
        form + f'<p class="muted">{len(shown)} open tickets, overdue first.</p>'
        "<table><tr><th>Level</th><th>Site</th><th>Ticket</th><th>Response</th>"
        "<th>On site</th><th></th></tr>" + "".join(rows) + "</table>"
    )
