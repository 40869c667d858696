"""``lvgw-center sites``: each site's last status, as a table or as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from center.ledger import Ledger
from center.tickets import columns


def rows(ledger: Ledger) -> list[dict[str, Any]]:
    return [
        {key: value for key, value in site.items() if key != "status"}
        | {"degraded": _degraded(site["status"])}
        for site in ledger.sites()
    ]


def _degraded(status: dict[str, Any]) -> list[str]:
    degraded = status.get("degraded")
    return [str(part) for part in degraded] if isinstance(degraded, list) else []


def as_json(found: list[dict[str, Any]]) -> str:
    return json.dumps(found, indent=2)


def as_table(found: list[dict[str, Any]]) -> str:
    if not found:
        return "no sites"
    header = ("SITE", "STATE", "SINCE", "VERSION", "BACKLOG", "LAST STATUS", "NOTE")
    lines: list[tuple[str, ...]] = [header]
    for row in found:
        lines.append(
            (
                row["site"],
                "online" if row["online"] else "OFFLINE",
                _time(row["since"]),
                row["version"] or "-",
                _backlog(row["backlog"]),
                _time(row["updated_at"]),
                _note(row),
            )
        )
    return columns(lines)


def _time(at: float | None) -> str:
    if at is None:
        return "-"
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _backlog(backlog: dict[str, Any] | None) -> str:
    if not backlog:
        return "-"
    return " ".join(f"{kind}:{count}" for kind, count in backlog.items())


def _note(row: dict[str, Any]) -> str:
    notes = []
    if row["degraded"]:
        notes.append("degraded: " + ", ".join(row["degraded"]))
    if row["refused_replies"]:
        notes.append(f"{row['refused_replies']} messages refused")
    return "; ".join(notes)
