"""``lvgw-center tickets``: the ledger's tickets, as a table or as JSON."""

from __future__ import annotations

import json
from typing import Any

from center.ledger import Ledger

_ON_TIME = {True: "yes", False: "LATE", None: "-"}


def rows(ledger: Ledger, open_only: bool, site: str | None) -> list[dict[str, Any]]:
    deliveries = ledger.ticket_deliveries()
    found = []
    for ticket in ledger.tickets(open_only, site):
        row = ticket.as_json()
        row["deliveries"] = deliveries.get(ticket.ticket_id, {})
        found.append(row)
    return found


def as_json(found: list[dict[str, Any]]) -> str:
    return json.dumps(found, indent=2)


def as_table(found: list[dict[str, Any]]) -> str:
    if not found:
        return "no tickets"
    header = ("TICKET", "SITE", "DEVICE", "FAULT", "L", "STATE", "SEQ", "RESP", "ONSITE", "NOTE")
    lines: list[tuple[str, ...]] = [header]
    for row in found:
        lines.append(
            (
                row["ticket_id"],
                row["site_id"],
                row["device_id"] or "-",
                row["fault_code"] or "-",
                str(row["severity"] or "-"),
                row["state"],
                str(row["applied_seq"]),
                _ON_TIME[row["on_time_response"]],
                _ON_TIME[row["on_time_onsite"]],
                _note(row),
            )
        )
    return columns(lines)


def columns(lines: list[tuple[str, ...]]) -> str:
    """Rows of cells as aligned columns (the first row is the header)."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _note(row: dict[str, Any]) -> str:
    notes = []
    if row["waiting_events"]:
        gap = " (gap flagged)" if row["gap_flagged"] else ""
        notes.append(f"{row['waiting_events']} waiting for seq {row['applied_seq'] + 1}{gap}")
    for adapter, states in sorted(row["deliveries"].items()):
        if states.get("dead"):
            notes.append(f"{adapter}: {states['dead']} dead-lettered")
        if states.get("pending"):
            notes.append(f"{adapter}: {states['pending']} pending")
    return "; ".join(notes)
