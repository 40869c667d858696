"""A customer's monthly service report: the month's incidents with their clocks and
outcomes, the availability of each class of device, the preventive inspections done
and due, and the contract's end date, from the ledger (and the sites' last health).

- The month is a calendar month in the center's reporting time zone (``web.timezone``,
  UTC unless set); a month not over yet is counted up to now.
- **Availability** of a class (switch, nvr, ...): the share of the class's
  device-hours in the month its devices were not down, a device being down from the
  occurrence of its ``device.unreachable`` ticket until its resolve (overlaps of one
  device counted once). The devices are those the site's last ``health`` lists, and
  any other a ticket of the month names.
- **Inspections**: the ``pm.due`` tickets (docs/proactive.md) open during the month;
  done once a technician arrived for one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from center.web.html import badge, escape, stamp
from center.web.ontime import Rates, services
from center.web.tickets import TicketView
from gateway.views.status import _span

DOWN_CODE = "device.unreachable"
PM_CODE = "pm.due"


def month_bounds(month: str, tz: tzinfo = UTC) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's, in ``tz`` (as UTC times)."""
    first = datetime.strptime(month, "%Y-%m")
    following = (first + timedelta(days=32)).replace(day=1)
    return first.replace(tzinfo=tz).astimezone(UTC), following.replace(tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class ClassAvailability:
    kind: str
    devices: int
    down: timedelta
    availability: float  # 0..1

    def text(self) -> str:
        return (f"{self.kind} | {self.devices} devices | down {_span(self.down.total_seconds())}"
                f" | {100 * self.availability:.2f} %")  # fmt: skip


@dataclass(frozen=True, slots=True)
class MonthlyReport:
    customer: str
    month: str
    zone: str
    period_end: datetime
    sites: list[str]
    incidents: list[TicketView]
    rates: Rates
    availability: list[ClassAvailability]
    inspections: list[TicketView]
    contract_ends: dict[str, str | None]


def _union(spans: list[tuple[datetime, datetime]]) -> timedelta:
    total, last_end = timedelta(0), None
    for start, end in sorted(spans):
        if last_end is not None and start < last_end:
            start = last_end
        if end > start:
            total += end - start
            last_end = end
    return total


def availability(
    tickets: Sequence[TicketView],
    devices: Mapping[tuple[str, str], str],
    start: datetime,
    end: datetime,
) -> list[ClassAvailability]:
    """Per device class; ``devices``: (site, device) -> kind."""
    kinds = dict(devices)
    spans: dict[tuple[str, str], list[tuple[datetime, datetime]]] = {}
    for t in tickets:
        if t.fault_code != DOWN_CODE or t.device_id is None or t.occurred_at is None:
            continue
        began, ended = max(t.occurred_at, start), min(t.resolved_at or end, end)
        if ended <= began:
            continue
        key = (t.site_id, t.device_id)
        kinds.setdefault(key, t.device_kind or "?")
        spans.setdefault(key, []).append((began, ended))
    hours = end - start
    out = []
    for kind in sorted({k for k in kinds.values() if k not in ("site", "gateway")}):
        members = [d for d, k in kinds.items() if k == kind]
        down = sum((_union(spans.get(d, [])) for d in members), timedelta(0))
        share = 1 - down / (hours * len(members)) if hours > timedelta(0) else 1.0
        out.append(ClassAvailability(kind, len(members), down, share))
    return out


def health_devices(health: Mapping[str, Mapping[str, Any] | None]) -> dict[tuple[str, str], str]:
    """(site, device) -> kind from each site's last health document."""
    found = {}
    for site_id, document in health.items():
        devices = (document or {}).get("devices")
        if isinstance(devices, dict):
            for name, device in devices.items():
                if isinstance(device, dict) and isinstance(device.get("kind"), str):
                    found[(site_id, str(name))] = device["kind"]
    return found


def monthly(
    customer: str,
    month: str,
    tickets: Sequence[TicketView],
    site_customers: Mapping[str, str],
    health: Mapping[str, Mapping[str, Any] | None],
    now: datetime,
    tz: tzinfo = UTC,
) -> MonthlyReport:
    start, end = month_bounds(month, tz)
    end = min(end, max(now, start))
    sites = sorted(s for s, c in site_customers.items() if c == customer)
    mine = [t for t in tickets if t.site_id in sites]
    in_month = [t for t in mine if t.occurred_at is not None and start <= t.occurred_at < end]
    incidents = sorted(services(in_month), key=lambda t: (t.occurred_at, t.ticket_id))
    rates = Rates()
    for t in incidents:
        rates.add(t)
    inspections = sorted(
        (t for t in mine if t.fault_code == PM_CODE and t.occurred_at is not None
         and t.occurred_at < end and (t.resolved_at is None or t.resolved_at >= start)),
        key=lambda t: (t.occurred_at, t.ticket_id),
    )  # fmt: skip
    devices = {k: v for k, v in health_devices(health).items() if k[0] in sites}
    ends: dict[str, str | None] = {}
    for t in sorted(mine, key=lambda t: (t.occurred_at is not None, t.occurred_at)):
        ends[t.site_id] = t.contract_ends or ends.get(t.site_id)
    return MonthlyReport(
        customer, month, str(tz), end, sites, incidents, rates,
        availability(mine, devices, start, end), inspections,
        {s: ends.get(s) for s in sites},
    )  # fmt: skip


def _outcome(t: TicketView) -> str:
    return f"resolved {stamp(t.resolved_at)}" if t.state == "resolved" else "open"


def _clock(done: datetime | None, on_time: bool | None, due: datetime | None,
           state: str) -> str:  # fmt: skip
    if due is None:
        return "no visit due"
    if on_time is None:
        verdict = "running" if state == "open" else "not needed"
    else:
        verdict = "on time" if on_time else "LATE"
    return f"{stamp(done) if done else '-'} ({verdict}, due {stamp(due)})"


def _inspection(t: TicketView) -> str:
    if t.arrived_at is not None:
        return f"done {stamp(t.arrived_at)}"
    return f"due, open since {stamp(t.occurred_at)}"


def report_lines(r: MonthlyReport) -> list[str]:
    """The report as text (the golden tests')."""
    lines = [
        f"customer {r.customer} | month {r.month} | counted up to {stamp(r.period_end)}",
        f"sites {', '.join(r.sites)}",
        f"on time | response {r.rates.response.text()} | on site {r.rates.onsite.text()}",
    ]
    for t in r.incidents:
        lines.append(
            f"incident {t.ticket_id} | {t.site_id} | {t.device_id} | L{t.severity}"
            f" | occurred {stamp(t.occurred_at)}"
            f" | response {_clock(t.responded_at, t.on_time_response, t.response_due, t.state)}"
            f" | on site {_clock(t.arrived_at, t.on_time_onsite, t.onsite_due, t.state)}"
            f" | {_outcome(t)}"
        )
    lines += [f"availability {a.text()}" for a in r.availability]
    lines += [f"inspection {t.ticket_id} | {t.site_id} | {_inspection(t)}" for t in r.inspections]
    if not r.inspections:
        lines.append("inspection none in the ledger")
    lines += [f"contract {s} ends {e or 'not known'}" for s, e in r.contract_ends.items()]
    return lines


def report_page(r: MonthlyReport) -> str:
    incidents = "".join(
        f'<tr class="row{t.severity or 0}" data-ticket="{escape(t.ticket_id)}">'
        f"<td>{badge(t.severity)}</td><td>{escape(t.site_id)}</td>"
        f'<td>{escape(t.title or "")}<br><span class="muted">{escape(t.ticket_id)}</span></td>'
        f"<td>{escape(stamp(t.occurred_at))}</td>"
        f"<td>{escape(_clock(t.responded_at, t.on_time_response, t.response_due, t.state))}</td>"
        f"<td>{escape(_clock(t.arrived_at, t.on_time_onsite, t.onsite_due, t.state))}</td>"
        f"<td>{escape(_outcome(t))}</td></tr>"
        for t in r.incidents
    )
    avail = "".join(
        f'<tr><td>{escape(a.kind)}</td><td class="num">{a.devices}</td>'
        f'<td class="num">{escape(_span(a.down.total_seconds()))}</td>'
        f'<td class="num">{100 * a.availability:.2f} %</td></tr>'
        for a in r.availability
    )
    inspections = "".join(
        f"<tr><td>{escape(t.site_id)}</td><td>{escape(t.title or '')}</td>"
        f"<td>{escape(_inspection(t))}</td></tr>"
        for t in r.inspections
    )
    ends = "".join(
        f"<tr><td>{escape(s)}</td><td>{escape(e or 'not known')}</td></tr>"
        for s, e in r.contract_ends.items()
    )
    return (
        f'<p id="summary">{escape(r.customer)}, {escape(r.month)} ({escape(r.zone)}), counted up to'
        f" {escape(stamp(r.period_end))}. Sites: {escape(', '.join(r.sites) or 'none')}.</p>"
        f"<p>On time: response {escape(r.rates.response.text())}, on site"
        f" {escape(r.rates.onsite.text())} (target 90 %).</p>"
        "<h2>Incidents</h2>"
        + ('<table id="incidents"><tr><th>Level</th><th>Site</th><th>Incident</th>'
           "<th>Occurred</th><th>Response</th><th>On site</th><th>Outcome</th></tr>"
           + incidents + "</table>" if incidents else '<p class="muted">No incidents.</p>')
        + "<h2>Availability by device class</h2>"
        + ('<table id="availability"><tr><th>Class</th><th>Devices</th><th>Down</th>'
           "<th>Available</th></tr>" + avail + "</table>"
           if avail else '<p class="muted">No devices known (no health and no tickets).</p>')
        + "<h2>Preventive inspections</h2>"
        + ('<table id="inspections"><tr><th>Site</th><th>Inspection</th><th>State</th></tr>'
           + inspections + "</table>" if inspections else
           '<p class="muted" id="no-inspections">No inspection records in the ledger for'
           " these sites this month (inspections are the gateways' pm.due tickets).</p>")
        + "<h2>Contract</h2><table id=\"contract\"><tr><th>Site</th><th>Contract ends</th></tr>"
        + ends + "</table>"
    )  # fmt: skip
