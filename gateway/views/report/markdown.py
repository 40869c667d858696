"""The pre-visit report as Markdown (CommonMark with pipe tables)."""

from __future__ import annotations

import re

from gateway.i18n import N_, Translator, translator
from gateway.present.humanize import unit_text
from gateway.views.report.model import DeviceHealth, Mark, Report, TicketLine, Trend
from gateway.views.status import LEVELS

# Characters that could start markup or HTML in a cell: escaped with a backslash.
_SPECIAL = re.compile(r"([\\`*\[\]<>|])")
MARKS = {Mark.OK: "{}", Mark.ATTENTION: "**{}**", Mark.NOT_MEASURED: "*{}*"}
# A checklist item's mark in words (the html shows the same words).
MARK_WORDS = {
    Mark.OK: N_("OK"),
    Mark.ATTENTION: N_("ATTENTION"),
    Mark.NOT_MEASURED: N_("not measured"),
}
# The heads of a device's trend table, in both renderings.
TREND_HEADS = (
    N_("Point"), N_("Instance"), N_("Last"), N_("Low"), N_("High"), N_("Per day"), N_("Outlook"),
)  # fmt: skip


def trend_cells(trend: Trend, tr: Translator) -> tuple[str, ...]:
    """A trend table's row, under TREND_HEADS, as text in ``tr``'s language (its unit
    too: ``0.7 个/秒``); "-" where there is nothing."""
    unit = unit_text(trend.unit, tr)
    last = f"{trend.last}{unit}" if unit.startswith("°") else f"{trend.last} {unit}".strip()
    cells = (trend.title or trend.point, trend.instance, last, trend.low, trend.high,
             trend.per_day, trend.outlook)  # fmt: skip
    return tuple(cell or "-" for cell in cells)


def md(text: object) -> str:
    return _SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _tickets(tickets: tuple[TicketLine, ...], tr: Translator) -> list[str]:
    _ = tr.gettext
    if not tickets:
        return [_("None.")]
    return _table(
        (_("Level"), _("Device"), _("Fault"), _("Since"), _("Status"), _("Ticket")),
        [
            (
                LEVELS.get(t.severity, "?"),
                md(t.device),
                md(t.title),
                t.since,
                md(t.status),
                md(t.ticket_id),
            )
            for t in tickets
        ],
    )


def _device(d: DeviceHealth, tr: Translator) -> list[str]:
    _ = tr.gettext
    name = f" — {md(d.name)}" if d.name else ""
    level = LEVELS.get(d.worst_level or 0, _("none"))
    lines = [
        f"### {md(d.id)}{name}",
        "",
        "- "
        + _("{kind} at {address}: {state}, worst open level {level}, last poll {time}").format(
            kind=md(d.kind), address=md(d.address), state=f"**{d.state}**", level=level,
            time=d.last_poll,
        ),
        "- " + _("Availability: {share}").format(share=md(d.availability)),
        "- " + _("Summary: {summary}").format(summary=md(d.summary) or "-"),
    ]  # fmt: skip
    if d.trends:
        lines += [
            "",
            *_table(
                tuple(_(head) for head in TREND_HEADS),
                [tuple(md(cell) for cell in trend_cells(t, tr)) for t in d.trends],
            ),
        ]
    else:
        lines.append("- " + _("Trends: not measured (no history in the metric store)"))
    return [*lines, ""]


def render_markdown(report: Report) -> str:
    tr = translator(report.locale)
    _ = tr.gettext
    lines = [
        f"# {md(report.title)}",
        "",
        _("Generated {time}.").format(time=report.generated_at) + f" {md(report.status_note)}",
        "",
    ]
    lines += ["## " + _("Site, customer and contract"), ""]
    lines += _table(("", ""), [(label, md(value)) for label, value in report.site])
    lines += [
        "",
        "## " + _("Open tickets ({count})").format(count=len(report.open_tickets)),
        "",
        *_tickets(report.open_tickets, tr),
    ]
    recent = _("Recent tickets (resolved in the last {days} days)").format(days=report.recent_days)
    lines += ["", f"## {recent}", ""]
    lines += _tickets(report.recent_tickets, tr)
    lines += ["", "## " + _("Devices: health and trends"), ""]
    for device in report.devices:
        lines += _device(device, tr)
    lines += ["## " + _("Preventive-maintenance checklist"), ""]
    for section in report.checklist:
        lines += [f"### {md(section.title)}", ""]
        lines += _table(
            (_("Check"), _("Task"), _("Finding")),
            [
                (MARKS[item.mark].format(_(MARK_WORDS[item.mark])), md(item.task), md(item.finding))
                for item in section.items
            ],
        )
        lines.append("")
    lines += ["## " + _("Bring along"), ""]
    lines += [f"- {md(item)}" for item in report.bring_along]
    return "\n".join(lines) + "\n"
