"""The status page's HTML: the site overview and one page per device.

Built from the status snapshot (gateway/snapshot/) as plain server-side HTML.
Everything that came from a device, a profile or the site file passes through
`escape`; the one script (countdowns that tick every second) and the one style sheet
are constants whose hashes the Content-Security-Policy allows, nothing else runs.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from urllib.parse import quote

from gateway.config.meanings import Meaning
from gateway.i18n import N_, Translator
from gateway.i18n.states import WORDS as STATE_WORDS_OF_DEVICES
from gateway.i18n.states import state_text
from gateway.present import humanize
from gateway.present.summary import (
    STATE_WORDS,
    SiteMeanings,
    State,
    Summary,
    display_name,
    kind_word,
    summarize,
)
from gateway.present.tables import TEXT as TABLE_TEXT
from gateway.present.tables import Cell, Table
from gateway.snapshot import DeviceStatus, StatusSnapshot, TicketStatus
from gateway.tickets.wire import rfc3339
from gateway.views import svg
from gateway.views.charts import Chart
from gateway.views.status import ENGLISH, LEVELS, _ago, _countdown, backlog_text, span_units

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#f6f7f9}
header{background:#263238;color:#fff;padding:10px 16px}
header h1{font-size:18px;margin:0}header p{margin:2px 0 0;color:#cfd8dc}
main{padding:12px 16px}h2{font-size:16px;margin:18px 0 6px}
table{border-collapse:collapse;background:#fff;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e0e0e0;vertical-align:top}
td a,.due{white-space:nowrap}
th{background:#eceff1}a{color:#0d47a1}
.lvl{display:inline-block;min-width:2.2em;text-align:center;border-radius:3px;
padding:0 4px;color:#fff;font-weight:600}
.lvl1{background:#c62828}.lvl2{background:#ef6c00}.lvl3{background:#f9a825;color:#222}
.lvl4{background:#1565c0}.lvl0{background:#2e7d32}
tr.row1{background:#ffebee}tr.row2{background:#fff3e0}tr.row3{background:#fffde7}
tr.row4{background:#e3f2fd}tr.down td.state{color:#c62828;font-weight:600}
.due{font-variant-numeric:tabular-nums}.overdue{color:#c62828;font-weight:600}
.stale{color:#c62828}.muted{color:#777}.charts svg{margin:4px 8px 8px 0;border:1px solid #ddd}
.chartset{display:flex;flex-wrap:wrap}figure{margin:0}figcaption{font-size:12px;color:#555}
.fig{display:inline-block;margin:0 10px 2px 0;white-space:nowrap}
.fig.degraded,.st.degraded{color:#8a4b00;font-weight:600}.fig.down,.st.down{color:#b71c1c;font-weight:600}
.st{white-space:nowrap}.st.ok{color:#1b5e20}.st.unknown,.fig.unknown{color:#555}
.fig.ok{color:#1b5e20}table.sortable .fig{margin:0}#summary .fig{font-size:15px}
#summary .st{margin-right:12px;font-size:15px}#facts{width:auto;min-width:50%}
.scroll{overflow-x:auto;max-width:100%}
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;
color:inherit;text-align:left}th[aria-sort=ascending] button::after{content:" ▲"}
th[aria-sort=descending] button::after{content:" ▼"}
.chart-box{margin:0 12px 12px 0;max-width:100%}.chart-box h3{font-size:14px;margin:6px 0 2px}
svg.chart{max-width:100%;height:auto}.legend{list-style:none;margin:0 0 4px;padding:0;
font-size:12px;display:flex;flex-wrap:wrap;gap:2px 12px}.legend svg{vertical-align:middle}
details{margin:16px 0}summary{cursor:pointer;color:#0d47a1}
@media (max-width:640px){main{padding:8px}header{padding:8px}td,th{padding:4px}
.opt{display:none}#devices td.summary .fig{display:block;white-space:normal}}
"""

SCRIPT = """(function(){
function f(s,u){s=Math.floor(Math.abs(s));
if(s<60)return s+u[0];
if(s<3600)return Math.floor(s/60)+u[1]+String(s%60).padStart(2,"0")+u[0];
if(s<86400)return Math.floor(s/3600)+u[2]+String(Math.floor(s%3600/60)).padStart(2,"0")+u[1];
return Math.floor(s/86400)+u[3]+String(Math.floor(s%86400/3600)).padStart(2,"0")+u[2];}
function tick(){var now=Date.now();
document.querySelectorAll("[data-due]").forEach(function(e){
var left=(Date.parse(e.getAttribute("data-due"))-now)/1000;
e.textContent=(e.getAttribute(left>=0?"data-in":"data-over")||(left>=0?"in {}":"OVERDUE {}"))
.replace("{}",f(left,(e.getAttribute("data-units")||"s m h d").split(" ")));
e.className=left>=0?"due":"due overdue";});}
tick();setInterval(tick,1000);
document.querySelectorAll("table.sortable th button").forEach(function(b){
b.addEventListener("click",function(){var th=b.parentNode,tr=th.parentNode,
i=Array.prototype.indexOf.call(tr.children,th),body=tr.parentNode.parentNode.tBodies[0],
up=th.getAttribute("aria-sort")!=="ascending";
tr.querySelectorAll("th").forEach(function(h){h.removeAttribute("aria-sort");});
th.setAttribute("aria-sort",up?"ascending":"descending");
var rows=Array.prototype.slice.call(body.rows);
rows.sort(function(p,q){var x=p.cells[i].getAttribute("data-v"),y=q.cells[i].getAttribute("data-v"),
m=parseFloat(x),n=parseFloat(y),c=isNaN(m)||isNaN(n)?x.localeCompare(y):m-n;return up?c:-c;});
rows.forEach(function(r){body.appendChild(r);});});});})();"""


def _digest(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src '{_digest(STYLE)}'; script-src '{_digest(SCRIPT)}'; "
    "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def level_class(level: int | None) -> int:
    return level if level in LEVELS else 0


def _badge(level: int | None, tr: Translator = ENGLISH) -> str:
    number = level_class(level)
    text = LEVELS.get(number) or tr.gettext("OK")
    return f'<span class="lvl lvl{number}">{text}</span>'


def _countdown_cell(due: datetime | None, now: datetime, tr: Translator = ENGLISH) -> str:
    """A countdown the page's script ticks, in the words of the page's language."""
    _ = tr.gettext
    if due is None:
        return f'<span class="muted">{escape(_("none"))}</span>'
    text = _countdown(due, now, tr)
    overdue = " overdue" if due < now else ""
    words = (
        f'data-in="{escape(_("in {span}").replace("{span}", "{}"))}" '
        f'data-over="{escape(_("OVERDUE {span}").replace("{span}", "{}"))}" '
        f'data-units="{escape(" ".join(span_units(tr)))}"'
    )
    return (
        f'<span class="due{overdue}" {words} data-due="{escape(rfc3339(due) or "")}">'
        f"{escape(text)}</span>"
    )


def layout(
    title: str, header: str, body: str, refresh_seconds: int = 30, lang: str = ENGLISH.locale
) -> str:
    return (
        f'<!DOCTYPE html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{refresh_seconds}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header>{header}</header><main>{body}</main>"
        f"<script>{SCRIPT}</script></body></html>"
    )


def _site_header(
    data: StatusSnapshot,
    agent_state: str,
    subtitle: str = "",
    tr: Translator = ENGLISH,
    zone: str | None = None,
) -> str:
    _ = tr.gettext
    site, uplink = data.site, data.uplink
    link = _("connected") if uplink.connected else _("NOT connected")
    backlog = backlog_text(uplink.backlog, tr)
    extra = f" — {escape(subtitle)}" if subtitle else ""
    line = _(
        "site {id} · {customer} · agent {state} · uplink {link}, backlog {backlog}"
        " · status of {time}"
    ).format(
        id=site.id, customer=site.customer, state=agent_state, link=link, backlog=backlog,
        time=humanize.local_time(data.generated_at, zone),
    )  # fmt: skip
    return f"<h1>{escape(site.name)}{extra}</h1><p>{escape(line)}</p>"


def _device_link(device_id: str) -> str:
    return f'<a href="/device/{quote(device_id, safe="")}">{escape(device_id)}</a>'


def tickets_table(tickets: Sequence[TicketStatus], now: datetime, tr: Translator = ENGLISH) -> str:
    _ = tr.gettext
    if not tickets:
        return f'<p class="muted" id="no-tickets">{escape(_("No open tickets."))}</p>'
    rows = []
    for t in tickets:
        acked = (
            escape(_("by {who}").format(who=t.acknowledged_by))
            if t.acknowledged_by
            else f'<span class="muted">{escape(_("not yet"))}</span>'
        )
        related = ", ".join(t.related_devices)
        rows.append(
            f'<tr class="ticket row{level_class(t.severity)}" '
            f'data-ticket="{escape(t.ticket_id)}">'
            f"<td>{_badge(t.severity, tr)}</td>"
            f"<td>{_device_link(t.device)}"
            + (f' <span class="muted">+{escape(related)}</span>' if related else "")
            + f"</td><td>{escape(t.title)}</td>"
            f"<td>{_countdown_cell(t.response_due, now, tr)}</td>"
            f"<td>{_countdown_cell(t.onsite_due, now, tr)}</td>"
            f'<td class="opt">{acked}</td><td class="muted opt">{escape(t.ticket_id)}</td></tr>'
        )
    head = (
        f"<th>{escape(_('Level'))}</th><th>{escape(_('Device'))}</th>"
        f"<th>{escape(_('Fault'))}</th><th>{escape(_('Respond'))}</th>"
        f'<th>{escape(_("On site"))}</th><th class="opt">{escape(_("Acknowledged"))}</th>'
        f'<th class="opt">{escape(_("Ticket"))}</th>'
    )
    return (
        f'<div class="scroll"><table id="tickets"><tr>{head}</tr>'
        + "".join(rows)
        + "</table></div>"
    )


# The words this module adds to the pages' (headers of the device page), in one place.
TEXT = {
    "all_devices": N_("← all devices"),
    "open_tickets": N_("Open tickets"),
    "charts": N_("Charts"),
    "details": N_("Details: the latest readings by point"),
    "point": N_("Point"),
    "value": N_("Value"),
    "unit": N_("Unit"),
}

# A state's mark, so that states differ by shape and word as well as by colour.
STATE_MARKS = {State.OK: "✓", State.DEGRADED: "▲", State.DOWN: "✖", State.UNKNOWN: "?"}


def state_badge(state: State, tr: Translator = ENGLISH) -> str:
    return (
        f'<span class="st {state.value}" data-state="{state.value}">'
        f"{STATE_MARKS[state]} {escape(tr.gettext(STATE_WORDS[state.value]))}</span>"
    )


def figures_html(summary: Summary) -> str:
    """A device's headline figures; those out of order marked by shape and colour."""
    return " ".join(
        f'<span class="fig {f.state.value}" data-figure="{escape(f.key)}">'
        + ("" if f.state is State.OK else f"{STATE_MARKS[f.state]} ")
        + f"{escape(f.text)}</span>"
        for f in summary.figures
    )


def _device_row(
    device: DeviceStatus,
    now: datetime,
    summary: Summary,
    meanings: Mapping[str, Meaning],
    tr: Translator = ENGLISH,
) -> str:
    level = device.worst_level
    css = f"row{level_class(level)}" + (" down" if device.reachable is False else "")
    return (
        f'<tr class="device {css}" data-device="{escape(device.id)}">'
        f"<td>{_device_link(device.id)}</td>"
        f"<td>{escape(display_name(device, meanings))}</td>"
        f'<td class="opt">{escape(kind_word(device.kind, tr))}</td>'
        f'<td class="state">{state_badge(summary.state, tr)}</td><td>{_badge(level, tr)}</td>'
        f'<td class="opt">{escape(_ago(device.last_poll, now, tr))}</td>'
        f'<td class="summary">{figures_html(summary)}</td></tr>'
    )


def index_page(
    data: StatusSnapshot,
    agent_state: str,
    now: datetime,
    meanings: SiteMeanings,
    tr: Translator = ENGLISH,
    zone: str | None = None,
) -> str:
    """``zone``: the site's time zone (an IANA name), for the times shown."""
    _ = tr.gettext
    devices = data.devices
    tickets = data.open_tickets
    columns = "".join(
        f'<th{cls}>{escape(_(title))}</th>'
        for title, cls in (
            (N_("Device"), ""), (N_("Name"), ""), (N_("Kind"), ' class="opt"'),
            (N_("State"), ""), (N_("Worst open"), ""), (N_("Polled"), ' class="opt"'),
            (N_("Summary"), ""),
        )
    )  # fmt: skip
    body = (
        f"<h2>{escape(_('Open tickets ({count})').format(count=len(tickets)))}</h2>"
        f"{tickets_table(tickets, now, tr)}"
        f"<h2>{escape(_('Devices ({count})').format(count=len(devices)))}</h2>"
        f'<div class="scroll"><table id="devices"><tr>{columns}</tr>'
        + "".join(
            _device_row(
                d, now, summarize(d, meanings.get(d.id, {}), tr), meanings.get(d.id, {}), tr
            )
            for d in devices
        )
        + f'</table></div><p class="muted">{escape(_("Machine-readable:"))} '
        '<a href="/api/status">/api/status</a></p>'
    )
    header = _site_header(data, agent_state, tr=tr, zone=zone)
    return layout(f"lvgw {data.site.id}", header, body, lang=tr.locale)


def cell_text(cell: Cell, tr: Translator) -> str:
    """A cell in ``tr``'s language: a state by its word, yes and no; else as it is."""
    if isinstance(cell.sort, str) and cell.sort in STATE_WORDS_OF_DEVICES:
        return state_text(cell.sort, tr)
    return (
        tr.gettext(cell.text) if cell.text in (TABLE_TEXT["yes"], TABLE_TEXT["no"]) else cell.text
    )


def table_html(table: Table, tr: Translator = ENGLISH) -> str:
    """A sortable table: each header a button (the page's script sorts by it), each
    cell's value for sorting in ``data-v``, states with their mark. Its title and
    column heads in ``tr``'s language (a composed head stays as it is)."""
    _ = tr.gettext
    head = "".join(
        f'<th><button type="button">{escape(_(title))}</button></th>' for title in table.columns
    )
    rows = []
    for row in table.rows:
        cells = []
        for cell in row:
            text = escape(cell_text(cell, tr))
            if cell.state is not None:
                text = (
                    f'<span class="fig {cell.state.value}">{STATE_MARKS[cell.state]} {text}</span>'
                )
            cells.append(f'<td data-v="{escape(str(cell.sort))}">{text}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<h2>{escape(_(table.title))} ({len(table.rows)})</h2><div class="scroll">'
        f'<table class="sortable" data-table="{escape(table.name)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def chart_html(chart: Chart) -> str:
    """A chart titled above, with its unit, and a legend when it has several lines."""
    legend = ""
    if chart.legend:
        legend = (
            '<ul class="legend">'
            + "".join(
                f"<li>{svg.swatch(n)} {escape(label)}</li>" for n, label in enumerate(chart.legend)
            )
            + "</ul>"
        )
    note = f' <span class="muted">({escape(chart.note)})</span>' if chart.note else ""
    return (
        f'<figure class="chart-box"><h3>{escape(chart.title)}{note}</h3>{legend}{chart.svg}'
        "</figure>"
    )


def device_page(
    data: StatusSnapshot,
    device: DeviceStatus,
    facts: Sequence[tuple[str, str]],
    summary: Summary,
    tables: Sequence[Table],
    charts: Sequence[Chart],
    chart_links: str,
    agent_state: str,
    now: datetime,
    tr: Translator = ENGLISH,
    zone: str | None = None,
) -> str:
    """``facts``: (label, value) rows; ``charts``: those of the range asked for;
    ``chart_links``: the links to the other range and to more charts (HTML); ``zone``:
    the site's time zone."""
    _ = tr.gettext
    device_id = device.id
    tickets = [t for t in data.open_tickets if t.concerns(device_id)]
    fact_rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
    readings = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(str(item.value))}</td>"
        f"<td>{escape(item.unit)}</td></tr>"
        for name, item in device.readings.items()
    )
    body = (
        f'<p><a href="/">{escape(_(TEXT["all_devices"]))}</a></p>'
        f'<p id="summary">{state_badge(summary.state, tr)} {figures_html(summary)}</p>'
        f'<div class="scroll"><table id="facts">{fact_rows}</table></div>'
        f"<h2>{escape(_(TEXT['open_tickets']))} ({len(tickets)})</h2>"
        f"{tickets_table(tickets, now, tr)}"
        + "".join(table_html(t, tr) for t in tables)
        + (
            f'<h2>{escape(_(TEXT["charts"]))}</h2><p class="chart-links">{chart_links}</p>'
            f'<div class="chartset charts">{"".join(chart_html(c) for c in charts)}</div>'
            if charts or chart_links
            else ""
        )
        + f'<details id="details"><summary>{escape(_(TEXT["details"]))}</summary>'
        f'<div class="scroll"><table id="readings"><tr><th>{escape(_(TEXT["point"]))}</th>'
        f"<th>{escape(_(TEXT['value']))}</th><th>{escape(_(TEXT['unit']))}</th></tr>{readings}"
        "</table></div></details>"
    )
    label = f"{device_id} {device.name}".strip()
    header = _site_header(data, agent_state, label, tr, zone)
    return layout(f"lvgw {label}", header, body, lang=tr.locale)


def message_page(title: str, text: str, lang: str = ENGLISH.locale) -> str:
    return layout(title, f"<h1>{escape(title)}</h1>", f"<p>{escape(text)}</p>", 60, lang)
