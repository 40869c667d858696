"""The pre-visit report as one self-contained HTML page (prints on A4)."""

from __future__ import annotations

from html import escape

from gateway.i18n import Translator, translator
from gateway.views.report.markdown import MARK_WORDS, TREND_HEADS, trend_cells
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
@media screen and (max-width:640px){body{margin:8px}table{display:block;overflow-x:auto}}
"""
CSS_CLASS = {Mark.OK: "ok", Mark.ATTENTION: "attention", Mark.NOT_MEASURED: "not-measured"}


def _row(cells: tuple[str, ...], tag: str = "td") -> str:
    return "<tr>" + "".join(f"<{tag}>{cell}</{tag}>" for cell in cells) + "</tr>"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    return "<table>" + _row(header, "th") + "".join(_row(r) for r in rows) + "</table>"


def _tickets(tickets: tuple[TicketLine, ...], tr: Translator) -> str:
    _ = tr.gettext
    if not tickets:
        return f"<p>{escape(_('None.'))}</p>"
    return _table(
        (_("Level"), _("Device"), _("Fault"), _("Since"), _("Status"), _("Ticket")),
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


def _device(d: DeviceHealth, tr: Translator) -> str:
    _ = tr.gettext
    name = f" — {escape(d.name)}" if d.name else ""
    level = LEVELS.get(d.worst_level or 0, _("none"))
    line = _("{kind} at {address}: {state}, worst open level {level}, last poll {time}")
    parts = [
        f"<h3>{escape(d.id)}{name}</h3><ul><li>"
        + escape(line).format(
            kind=escape(d.kind), address=escape(d.address), state=f"<b>{escape(d.state)}</b>",
            level=escape(level), time=escape(d.last_poll),
        )
        + "</li>"
        f"<li>{escape(_('Availability: {share}').format(share=d.availability))}</li>"
        f"<li>{escape(_('Summary: {summary}').format(summary=d.summary or '-'))}</li>"
    ]  # fmt: skip
    if not d.trends:
        no_trend = _("Trends: not measured (no history in the metric store)")
        parts.append(f"<li>{escape(no_trend)}</li>")
    parts.append("</ul>")
    if d.trends:
        parts.append(
            _table(
                tuple(_(head) for head in TREND_HEADS),
                [tuple(escape(cell) for cell in trend_cells(t, tr)) for t in d.trends],
            )
        )
    return "".join(parts)


def render_html(report: Report) -> str:
    tr = translator(report.locale)
    _ = tr.gettext
    generated = _("Generated {time}.").format(time=report.generated_at)
    recent = _("Recent tickets (resolved in the last {days} days)").format(days=report.recent_days)
    body = [
        f"<h1>{escape(report.title)}</h1>",
        f"<p>{escape(generated)} {escape(report.status_note)}</p>",
        f"<h2>{escape(_('Site, customer and contract'))}</h2>",
        _table(("", ""), [(escape(k), escape(v)) for k, v in report.site]),
        f"<h2>{escape(_('Open tickets ({count})').format(count=len(report.open_tickets)))}</h2>",
        _tickets(report.open_tickets, tr),
        f"<h2>{escape(recent)}</h2>",
        _tickets(report.recent_tickets, tr),
        f"<h2>{escape(_('Devices: health and trends'))}</h2>",
        *(_device(d, tr) for d in report.devices),
        f"<h2>{escape(_('Preventive-maintenance checklist'))}</h2>",
    ]
    for section in report.checklist:
        body.append(f"<h3>{escape(section.title)}</h3>")
        body.append(
            _table(
                (escape(_("Check")), escape(_("Task")), escape(_("Finding"))),
                [
                    (
                        f'<span class="{CSS_CLASS[i.mark]}">{escape(_(MARK_WORDS[i.mark]))}</span>',
                        escape(i.task),
                        escape(i.finding),
                    )
                    for i in section.items
                ],
            )
        )
    body.append(f"<h2>{escape(_('Bring along'))}</h2><ul>")
    body += [f"<li>{escape(item)}</li>" for item in report.bring_along]
    body.append("</ul>")
    return (
        f'<!DOCTYPE html>\n<html lang="{report.locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(report.title)}</title><style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
