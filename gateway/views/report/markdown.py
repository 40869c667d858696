"""The pre-visit report as Markdown (CommonMark with pipe tables)."""

from __future__ import annotations

import re

from gateway.views.report.model import DeviceHealth, Mark, Report, TicketLine
from gateway.views.status import LEVELS

# Characters that could start markup or HTML in a cell: escaped with a backslash.
_SPECIAL = re.compile(r"([\\`*\[\]<>|])")
MARKS = {Mark.OK: "OK", Mark.ATTENTION: "**ATTENTION**", Mark.NOT_MEASURED: "*not measured*"}


def md(text: object) -> str:
    return _SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _tickets(tickets: tuple[TicketLine, ...]) -> list[str]:
    if not tickets:
        return ["None."]
    return _table(
        ("Level", "Device", "Fault", "Since", "Status", "Ticket"),
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


def _device(d: DeviceHealth) -> list[str]:
    name = f" — {md(d.name)}" if d.name else ""
    level = LEVELS.get(d.worst_level or 0, "none")
    lines = [
        f"### {md(d.id)}{name}",
        "",
        f"- {md(d.kind)} at {md(d.address)}: **{d.state}**, worst open level {level}, "
        f"last poll {d.last_poll}",
        f"- Availability: {md(d.availability)}",
        f"- Summary: {md(d.summary) or '-'}",
    ]
    if d.trends:
        lines += [
            "",
            *_table(
                ("Point", "Instance", "Last", "Low", "High", "Per day", "Outlook"),
                [
                    (
                        md(t.point),
                        md(t.instance) or "-",
                        md(f"{t.last} {t.unit}".strip()),
                        md(t.low),
                        md(t.high),
                        md(t.per_day),
                        md(t.outlook) or "-",
                    )
                    for t in d.trends
                ],
            ),
        ]
    else:
        lines.append("- Trends: not measured (no history in the metric store)")
    return [*lines, ""]


def render_markdown(report: Report) -> str:
    lines = [
        f"# {md(report.title)}",
        "",
        f"Generated {report.generated_at}. {md(report.status_note)}",
        "",
    ]
    lines += ["## Site, customer and contract", ""]
    lines += _table(("", ""), [(label, md(value)) for label, value in report.site])
    lines += [
        "",
        f"## Open tickets ({len(report.open_tickets)})",
        "",
        *_tickets(report.open_tickets),
    ]
    lines += ["", f"## Recent tickets (resolved in the last {report.recent_days} days)", ""]
    lines += _tickets(report.recent_tickets)
    lines += ["", "## Devices: health and trends", ""]
    for device in report.devices:
        lines += _device(device)
    lines += ["## Preventive-maintenance checklist", ""]
    for section in report.checklist:
        lines += [f"### {md(section.title)}", ""]
        lines += _table(
            ("Check", "Task", "Finding"),
            [(MARKS[item.mark], md(item.task), md(item.finding)) for item in section.items],
        )
        lines.append("")
    lines += ["## Bring along", ""]
    lines += [f"- {md(item)}" for item in report.bring_along]
    return "\n".join(lines) + "\n"
