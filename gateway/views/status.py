"""`lvgw status`: the site at a glance, from the running agent's snapshot."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from gateway import snapshot
from gateway.config.load import LoadedConfig
from gateway.present.summary import STATE_WORDS, SiteMeanings, site_meanings, summarize
from gateway.snapshot import DeviceStatus, StatusSnapshot

FRESH_SECONDS = 15.0  # the agent rewrites the snapshot every few seconds
LEVELS = {1: "L1", 2: "L2", 3: "L3", 4: "L4"}
INTAKE_NAMES = {"sia": "DC-09 receiver"}  # push sources that count what they take


def _span(seconds: float) -> str:
    seconds = int(abs(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def _countdown(due: datetime | None, now: datetime) -> str:
    if due is None:
        return "none"
    left = (due - now).total_seconds()
    return f"in {_span(left)}" if left >= 0 else f"OVERDUE {_span(left)}"


def _ago(when: datetime | None, now: datetime) -> str:
    return f"{_span((now - when).total_seconds())} ago" if when else "-"


def device_state(device: DeviceStatus) -> str:
    if device.reachable is None:
        return "not polled"
    return "up" if device.reachable else "DOWN"


def agent_state(data: StatusSnapshot, now: datetime) -> str:
    age = (now - data.generated_at).total_seconds()
    try:
        os.kill(data.agent.pid, 0)
        alive = True
    except (ProcessLookupError, PermissionError):
        alive = False
    if alive and age <= FRESH_SECONDS:
        return "running"
    return f"stopped (last status {_span(age)} ago)"


def render(
    data: StatusSnapshot, out: TextIO, meanings: SiteMeanings, now: datetime | None = None
) -> None:
    now = now or datetime.now(UTC)
    site, uplink = data.site, data.uplink
    print(f"site {site.id}: {site.name} ({site.customer})", file=out)
    link = "connected" if uplink.connected else "NOT connected"
    print(
        f"agent {agent_state(data, now)}; uplink {link}, backlog "
        + (", ".join(f"{n} {c}" for c, n in uplink.backlog.items()) or "empty")
        + (f"; refused {uplink.refused}" if uplink.refused else ""),
        file=out,
    )
    if data.agent.degraded:
        counts = ", ".join(
            f"{p} ({data.agent.failures.get(p, 0)} failures)" for p in data.agent.degraded
        )
        print(f"DEGRADED (restarting): {counts}", file=out)
    for name, intake in data.agent.intake.items():
        refused = ", ".join(f"{cause} {n}" for cause, n in sorted(intake.refused.items()))
        print(
            f"{INTAKE_NAMES.get(name, name)}: {intake.accepted} accepted, "
            f"{intake.duplicates} duplicates, refused: {refused or 'none'}",
            file=out,
        )
    print(file=out)
    print(f"{'DEVICE':<14} {'KIND':<12} {'STATE':<12} {'LEVEL':<6} {'POLLED':<9} SUMMARY", file=out)
    for device in data.devices:
        level = LEVELS.get(device.worst_level or 0, "-")
        summary = summarize(device, meanings.get(device.id, {}))
        print(
            f"{device.id:<14} {device.kind:<12} {STATE_WORDS[summary.state]:<12} {level:<6} "
            f"{_ago(device.last_poll, now):<9} {summary.line()}",
            file=out,
        )
    tickets = data.open_tickets
    print(file=out)
    print(f"OPEN TICKETS ({len(tickets)})", file=out)
    for ticket in tickets:
        acked = (
            f"acknowledged by {ticket.acknowledged_by}"
            if ticket.acknowledged_by
            else "not acknowledged"
        )
        related = f" (+{', '.join(ticket.related_devices)})" if ticket.related_devices else ""
        print(
            f"  {LEVELS[ticket.severity]} {ticket.device}{related}: {ticket.title}\n"
            f"     respond {_countdown(ticket.response_due, now)}, on site "
            f"{_countdown(ticket.onsite_due, now)}; {acked}; {ticket.ticket_id}",
            file=out,
        )


def status_document(data: StatusSnapshot, now: datetime | None = None) -> dict[str, Any]:
    """What `lvgw status --json` prints (and ``cmd/status`` answers): the snapshot and
    whether the agent that wrote it is running."""
    return {**data.to_jsonable(), "agent_state": agent_state(data, now or datetime.now(UTC))}


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
        json.dump(status_document(data), out, indent=2, ensure_ascii=False)
        print(file=out)
    else:
        render(data, out, site_meanings(config))
    return 0


# What the status page and the digest read the agent's state from.
StatusSource = Callable[[], StatusSnapshot | None]


def from_state_dir(config: LoadedConfig) -> StatusSource:
    """The status source of a running agent: the snapshot it writes every few seconds."""
    state_dir = config.site_file.agent.state_dir
    return lambda: snapshot.read(state_dir)
