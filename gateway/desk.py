"""A small reference consumer for the service center: arriving tickets with their clocks.

``lvgw desk --broker HOST:PORT [--site ID]`` subscribes to ``lvgw/v1/<site>/#`` and
prints one line per ticket event and per status change.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, TextIO

import aiomqtt

LEVEL_NAMES = {1: "L1 system down", 2: "L2 major", 3: "L3 minor", 4: "L4 user/small"}


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _left(due: datetime | None, now: datetime) -> str:
    if due is None:
        return "no visit due"
    seconds = int((due - now).total_seconds())
    sign = "" if seconds >= 0 else "OVERDUE by "
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{sign}{hours}h{rest // 60:02d}m" if hours else f"{sign}{rest // 60}m{rest % 60:02d}s"


def format_ticket(event: dict[str, Any], now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    kind = str(event.get("event", "?")).upper()
    level = LEVEL_NAMES.get(int(event.get("severity", 0)), "?")
    device = event.get("device", {}).get("id", "?")
    head = f"{now:%H:%M:%S}  {kind:<8} {level:<15} {device:<12} {event.get('title', '')}"
    ticket = f"ticket {event.get('ticket_id')} #{event.get('seq')}"
    if kind == "RESOLVE":
        opened, resolved = _when(event.get("occurred_at")), _when(event.get("resolved_at"))
        took = f" after {_left(resolved, opened).strip()}" if opened and resolved else ""
        return f"{head}\n          resolved{took}; {ticket}"
    response = _when(event.get("response_due"))
    onsite = _when(event.get("onsite_due"))
    return (
        f"{head}\n          respond within {_left(response, now)}, on site within "
        f"{_left(onsite, now)}; {ticket}; fault {event.get('fault', {}).get('code')}"
    )


async def watch(
    host: str, port: int, site: str, out: TextIO, identifier: str = "lvgw-desk"
) -> None:
    """Print tickets and status changes of ``site`` ("+" for every site) until cancelled."""
    async with aiomqtt.Client(host, port, identifier=identifier) as client:
        await client.subscribe(f"lvgw/v1/{site}/tickets", qos=1)
        await client.subscribe(f"lvgw/v1/{site}/status", qos=1)
        async for message in client.messages:
            try:
                body = json.loads(bytes(message.payload))
            except (ValueError, TypeError):
                print(f"(unreadable message on {message.topic})", file=out, flush=True)
                continue
            if str(message.topic).endswith("/status"):
                state = body.get("state", "?")
                print(
                    f"{datetime.now(UTC):%H:%M:%S}  gateway {body.get('site')} is {state}",
                    file=out,
                    flush=True,
                )
            else:
                print(format_ticket(body), file=out, flush=True)
