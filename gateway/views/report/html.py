"""The pre-visit report as one self-contained HTML page (prints on A4)."""

from __future__ import annotations

from html import escape

from gateway.views.report.model import DeviceHealth, Mark, Report, TicketLine
from gateway.views.status import LEVELS

STYLE = """
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:20px;border-bottom:1px solid #ccc}
h3{font-size:14px;margin:12px 0 4px}
table{border-collapse:collapse;width:100%;margin:4px 0}
th,td{text-align:left;padding:3px 6px;border:1px solid #ddd;vertical-align:top}
th{background:#eceff1}.ok{color:#2e7d32}.attention{color:#c62828;font-weight:600}
.not-measured{color:#777;font-style:italic}.lvl1{color:#c62828}.lvl2{color:#ef6c00}
@media print{body{margin:0}h2{break-after:avoid}}
"""
CSS_CLASS = {Mark.OK: "ok", Mark.ATTENTION: "attention", Mark.NOT_MEASURED: "not-measured"}
LABEL = {Mark.OK: "OK", Mark.ATTENTION: "ATTENTION", Mark.NOT_MEASURED: "not measured"}


def _row(cells: tuple[str, ...], tag: str = "td") -> str:
    return "<tr>" + "".join(f"<{tag}>{cell}</{tag}>" for cell in cells) + "</tr>"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    return "<table>" + _row(header, "th") + "".join(_row(r) for r in rows) + "</table>"


def _tickets(tickets: tuple[TicketLine, ...]) -> str:
    if not tickets:
        return "<p>None.</p>"
    return _table(
        ("Level", "Device", "Fault", "Since", "Status", "Ticket"),
        [
            (
                f'<span class="lvl{t.severity}">{LEVELS.get(t.severity, "?")}</span>',
                escape(t.device),
                escape(t.title),
                escape(t.since),
                escape(t.status),
                escape(t.ticket_id),
            )
            for t in tickets
        ],
    )


def _device(d: DeviceHealth) -> str:
    name = f" — {escape(d.name)}" if d.name else ""
    level = LEVELS.get(d.worst_level or 0, "none")
    parts = [
        f"<h3>{escape(d.id)}{name}</h3><ul>"
        f"<li>{escape(d.kind)} at {escape(d.address)}: <b>{escape(d.state)}</b>, worst open "
        f"level {level}, last poll {escape(d.last_poll)}</li>"
        f"<li>Availability: {escape(d.availability)}</li>"
        f"<li>Summary: {escape(d.summary) or '-'}</li>"
    ]
    if not d.trends:
        parts.append("<li>Trends: not measured (no history in the metric store)</li>")
    parts.append("</ul>")
    if d.trends:
        parts.append(
            _table(
                ("Point", "Instance", "Last", "Low", "High", "Per day", "Outlook"),
                [
                    (
                        escape(t.point),
                        escape(t.instance) or "-",
                        escape(f"{t.last} {t.unit}".strip()),
                        escape(t.low),
                        escape(t.high),
                        escape(t.per_day),
                        escape(t.outlook) or "-",
                    )
                    for t in d.trends
                ],
            )
        )
    return "".join(parts)


def render_html(report: Report) -> str:
    body = [
        f"<h1>{escape(report.title)}</h1>",
        f"<p>Generated {escape(report.generated_at)}. {escape(report.status_note)}</p>",
        "<h2>Site, customer and contract</h2>",
        _table(("", ""), [(escape(k), escape(v)) for k, v in report.site]),
        f"<h2>Open tickets ({len(report.open_tickets)})</h2>",
        _tickets(report.open_tickets),
        f"<h2>Recent tickets (resolved in the last {report.recent_days} days)</h2>",
        _tickets(report.recent_tickets),
        "<h2>Devices: health and trends</h2>",
        *(_device(d) for d in report.devices),
        "<h2>Preventive-maintenance checklist</h2>",
    ]
    for section in report.checklist:
        body.append(f"<h3>{escape(section.title)}</h3>")
        body.append(
            _table(
                ("Check", "Task", "Finding"),
                [
                    (
                        f'<span class="{CSS_CLASS[i.mark]}">{LABEL[i.mark]}</span>',
                        escape(i.task),
                        escape(i.finding),
                    )
                    for i in section.items
                ],
            )
        )
    body.append("<h2>Bring along</h2><ul>")
    body += [f"<li>{escape(item)}</li>" for item in report.bring_along]
    body.append("</ul>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(report.title)}</title><style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
