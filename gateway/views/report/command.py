"""`lvgw report -c SITE [--device ID] --format md|html|json [--out FILE] [--days N]`.

Reads what the agent leaves in its state directory (the status snapshot, the metric
store, the ticket history), running or stopped; writes nothing there.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from gateway import snapshot
from gateway.config.load import LoadedConfig
from gateway.metrics.store.errors import StoreError
from gateway.metrics.store.history import StoreHistory
from gateway.tickets.history import HISTORY_NAME, TicketHistory, TicketHistoryError
from gateway.views.report import (
    Sources,
    build_report,
    render_html,
    render_json,
    render_markdown,
)

FORMATS = ("md", "html", "json")


async def make_report(
    config: LoadedConfig, device: str | None, fmt: str, days: int, now: datetime
) -> str:
    state_dir = config.site_file.agent.state_dir
    history = StoreHistory.in_state_dir(state_dir)
    tickets = None
    if (state_dir / HISTORY_NAME).exists():
        tickets = await TicketHistory.in_state_dir(state_dir, read_only=True).open()
    try:
        report = await build_report(
            Sources(config, snapshot.read(state_dir), history, tickets, now, device, days)
        )
    finally:
        await history.close()
        if tickets is not None:
            await tickets.close()
    if fmt == "html":
        return render_html(report)
    return render_json(report) if fmt == "json" else render_markdown(report)


def run(
    config: LoadedConfig,
    device: str | None,
    fmt: str,
    out: Path | None,
    days: int,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Exit code: 0 written, 1 the state could not be read, 2 an unknown device."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    if device is not None and device not in {d.id for d in config.devices}:
        print(f"lvgw report: no device {device!r} in {config.path}", file=stderr)
        return 2
    try:
        text = asyncio.run(make_report(config, device, fmt, days, datetime.now(UTC)))
    except (StoreError, TicketHistoryError) as exc:
        print(f"lvgw report: {exc}", file=stderr)
        return 1
    if out is None:
        stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"report written to {out}", file=stderr)
    return 0
