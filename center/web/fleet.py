"""The fleet: every site the center has heard of, online or offline since when, the
gateway's version, its outbox backlog, its degraded parts and the worst open level;
and one site's page: its status, its devices' health and its tickets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from center.web.html import badge, countdown, escape, met, q, stamp
from center.web.tickets import TicketView
from gateway.views.status import _ago


def _when(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


def worst_levels(tickets: Sequence[TicketView]) -> dict[str, int]:
    worst: dict[str, int] = {}
    for t in tickets:
        if t.state == "open" and t.severity is not None:
            worst[t.site_id] = min(worst.get(t.site_id, 9), t.severity)
    return worst


def _backlog(backlog: Mapping[str, int] | None) -> str:
    if not backlog:
        return "-"
    total = sum(v for v in backlog.values() if isinstance(v, int))
    return str(total) if total == 0 else ", ".join(f"{n} {c}" for c, n in backlog.items() if n)


def site_state(site: Mapping[str, Any], now: datetime) -> str:
    since = _when(site.get("since"))
    word = "online" if site["online"] else "OFFLINE"
    return f"{word} since {stamp(since)} ({_ago(since, now)})" if since else word


def fleet_page(
    sites: Sequence[Mapping[str, Any]],
    tickets: Sequence[TicketView],
    customers: Mapping[str, str],
    now: datetime,
) -> str:
    worst = worst_levels(tickets)
    rows_of = list(sites)
    if not rows_of:
        return '<p class="muted" id="no-sites">No site has reported yet.</p>'
    rows = []
    for s in sorted(rows_of, key=lambda s: (bool(s["online"]), worst.get(s["site"], 9), s["site"])):
        status = s.get("status") or {}
        degraded = ", ".join(str(d) for d in status.get("degraded") or []) or "-"
        state = "no status yet" if s.get("never") else site_state(s, now)
        down = "" if s["online"] else " down"
        level = worst.get(s["site"])
        rows.append(
            f'<tr class="site row{level or 0}{down}" data-site="{escape(s["site"])}">'
            f'<td><a href="/sites/{q(s["site"])}">{escape(s["site"])}</a></td>'
            f"<td>{escape(customers.get(s['site'], '-'))}</td>"
            f'<td class="state">{escape(state)}</td>'
            f"<td>{escape(s.get('version') or '-')}</td>"
            f'<td class="num">{escape(_backlog(s.get("backlog")))}</td>'
            f"<td>{escape(degraded)}</td>"
            f"<td>{badge(level) if level else '-'}</td></tr>"
        )
    return (
        f'<p class="muted">{len(rows)} sites, offline and the worst first.</p>'
        "<table><tr><th>Site</th><th>Customer</th><th>State</th><th>Version</th>"
        "<th>Backlog</th><th>Degraded</th><th>Worst open</th></tr>" + "".join(rows) + "</table>"
    )


def tickets_table(tickets: Sequence[TicketView], now: datetime) -> str:
    if not tickets:
        return '<p class="muted">No tickets.</p>'
    rows = []
    for t in sorted(tickets, key=lambda t: (t.state != "open", t.occurred_at or now)):
        if t.state == "open":
            response = (
                met(t.responded_at, t.on_time_response, "responded")
                if t.responded_at
                else countdown(t.response_due, now)
            )
            onsite = (
                met(t.arrived_at, t.on_time_onsite, "arrived")
                if t.arrived_at
                else countdown(t.onsite_due, now)
            )
        else:
            response = met(t.responded_at, t.on_time_response, "responded")
            onsite = met(t.arrived_at, t.on_time_onsite, "arrived") if t.onsite_due else "-"
        rows.append(
            f'<tr class="ticket row{t.severity or 0}" data-ticket="{escape(t.ticket_id)}">'
            f"<td>{badge(t.severity)}</td><td>{escape(t.title or '')}"
            f'<br><span class="muted">{escape(t.ticket_id)}</span></td>'
            f"<td>{escape(t.state)}</td><td>{escape(stamp(t.occurred_at))}</td>"
            f"<td>{response}</td><td>{onsite}</td></tr>"
        )
    return (
        "<table><tr><th>Level</th><th>Ticket</th><th>State</th><th>Occurred</th>"
        "<th>Response</th><th>On site</th></tr>" + "".join(rows) + "</table>"
    )


def _figures(device: Mapping[str, Any]) -> str:
    parts = []
    if isinstance(c := device.get("cameras"), dict):
        parts.append(f"cameras {c.get('online')}/{c.get('total')} online")
    if isinstance(d := device.get("disks"), dict):
        parts.append(f"disks {d.get('healthy')}/{d.get('total')} healthy")
    if isinstance(t := device.get("trunks"), dict):
        parts.append(f"trunks {t.get('up')}/{t.get('total')} up")
    if device.get("mains"):
        parts.append(f"mains {device['mains']}")
    if isinstance(b := device.get("battery"), dict):
        said = [
            f"{b['charge']} %" if "charge" in b else "",
            f"{b['runtime_min']} min" if "runtime_min" in b else "",
            str(b["status"]) if "status" in b else "",
            "LOW" if b.get("low") else "",
        ]
        parts.append("battery " + " ".join(s for s in said if s).strip())
    return "; ".join(parts) or "-"


def health_table(health: Mapping[str, Any] | None, received: float | None) -> str:
    if not health or not isinstance(health.get("devices"), dict):
        return '<p class="muted" id="no-health">No health from this site yet.</p>'
    rows = []
    for name, device in sorted(health["devices"].items()):
        if not isinstance(device, dict):
            continue
        level = device.get("level")
        state = str(device.get("state", "?"))
        rows.append(
            f'<tr class="device row{level or 0}{" down" if state == "down" else ""}"'
            f' data-device="{escape(name)}"><td>{escape(name)}</td>'
            f"<td>{escape(str(device.get('kind', '')))}</td>"
            f'<td class="state">{escape(state)}</td>'
            f"<td>{badge(level) if level else '-'}</td>"
            f"<td>{escape(_figures(device))}</td></tr>"
        )
    at = escape(str(health.get("at", "")))
    return (
        f'<p class="muted">Published by the gateway at {at}.</p>'
        "<table><tr><th>Device</th><th>Kind</th><th>State</th><th>Worst open</th>"
        "<th>Figures</th></tr>" + "".join(rows) + "</table>"
    )
