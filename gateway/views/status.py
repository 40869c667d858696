"""`lvgw status`: the site at a glance, from the running agent's snapshot."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any, TextIO

from gateway import snapshot
from gateway.config.load import LoadedConfig

FRESH_SECONDS = 15.0  # the agent rewrites the snapshot every few seconds
LEVELS = {1: "L1", 2: "L2", 3: "L3", 4: "L4"}


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _span(seconds: float) -> str:
    seconds = int(abs(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def _countdown(due: str | None, now: datetime) -> str:
    when = _when(due)
    if when is None:
        return "none"
    left = (when - now).total_seconds()
    return f"in {_span(left)}" if left >= 0 else f"OVERDUE {_span(left)}"


def agent_state(data: dict[str, Any], now: datetime) -> str:
    generated = _when(data.get("generated_at"))
    age = (now - generated).total_seconds() if generated else float("inf")
    pid = data.get("agent", {}).get("pid")
    alive = False
    if isinstance(pid, int):
        try:
            os.kill(pid, 0)
            alive = True
        except (ProcessLookupError, PermissionError):
            alive = False
    if alive and age <= FRESH_SECONDS:
        return "running"
    return f"stopped (last status {_span(age)} ago)"


def _readings(device: dict[str, Any]) -> str:
    parts = []
    for name, item in device.get("readings", {}).items():
        if name in ("sys.descr", "sys.object_id"):
            continue
        value = item.get("value")
        unit = item.get("unit") or ""
        parts.append(f"{name}={value}{unit}")
    return " ".join(parts[:5])


def render(data: dict[str, Any], out: TextIO, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    site = data["site"]
    uplink = data.get("uplink", {})
    print(f"site {site['id']}: {site['name']} ({site['customer']})", file=out)
    link = "connected" if uplink.get("connected") else "NOT connected"
    backlog = uplink.get("backlog", {})
    print(
        f"agent {agent_state(data, now)}; uplink {link}, backlog "
        + (", ".join(f"{n} {c}" for c, n in backlog.items()) or "empty")
        + (f"; refused {uplink['refused']}" if uplink.get("refused") else ""),
        file=out,
    )
    print(file=out)
    print(
        f"{'DEVICE':<14} {'KIND':<12} {'STATE':<12} {'LEVEL':<6} {'POLLED':<9} READINGS", file=out
    )
    for device in data["devices"]:
        reachable = device.get("reachable")
        state = "up" if reachable else ("DOWN" if reachable is False else "not polled")
        level = LEVELS.get(device.get("worst_level") or 0, "-")
        polled = _when(device.get("last_poll"))
        ago = f"{_span((now - polled).total_seconds())} ago" if polled else "-"
        print(
            f"{device['id']:<14} {device['kind']:<12} {state:<12} {level:<6} {ago:<9} "
            f"{_readings(device)}",
            file=out,
        )
    tickets = data.get("open_tickets", [])
    print(file=out)
    print(f"OPEN TICKETS ({len(tickets)})", file=out)
    for ticket in tickets:
        acked = (
            f"acknowledged by {ticket['acknowledged_by']}"
            if ticket.get("acknowledged_by")
            else "not acknowledged"
        )
        related = (
            f" (+{', '.join(ticket['related_devices'])})" if ticket.get("related_devices") else ""
        )
        print(
            f"  {LEVELS[ticket['severity']]} {ticket['device']}{related}: {ticket['title']}\n"
            f"     respond {_countdown(ticket['response_due'], now)}, on site "
            f"{_countdown(ticket['onsite_due'], now)}; {acked}; {ticket['ticket_id']}",
            file=out,
        )


def show(config: LoadedConfig, out: TextIO, as_json: bool) -> int:
    data = snapshot.read(config.site_file.agent.state_dir)
    if data is None:
        print(
            f"no status yet in {config.site_file.agent.state_dir}: start the agent with "
            f"`lvgw run -c {config.path}`",
            file=out,
        )
        return 1
    if as_json:
        data = {**data, "agent_state": agent_state(data, datetime.now(UTC))}
        json.dump(data, out, indent=2, ensure_ascii=False)
        print(file=out)
    else:
        render(data, out)
    return 0
