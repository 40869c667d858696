"""`make demo` runs `lvgw demo`: it must show a newcomer a real ticket, as the desk sees it
and as a helpdesk gets it from lvgw-center, and stop cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest


def _ctrl_c_reaches_it() -> None:
    """In the demo's process before it starts: SIGINT does what it does in a terminal.

    A shell starts a background job (``make test &``, CI scripts) with SIGINT ignored,
    its children inherit that, and Python then never turns SIGINT into Ctrl-C: the demo
    would rightly ignore the test's SIGINT and run on.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


async def test_demo_shows_a_ticket_and_stops_on_ctrl_c() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "demo",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=_ctrl_c_reaches_it,
    )  # fmt: skip
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(120):
            # The desk's view, and the helpdesk fed by lvgw-center's webhook.
            while not (
                any(" OPEN " in line and "helpdesk" not in line for line in lines)
                and any("helpdesk got OPEN " in line for line in lines)
            ):
                raw = await proc.stdout.readline()
                assert raw, "the demo ended early:\n" + "".join(lines)
                lines.append(raw.decode())
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        try:
            rest, _ = await asyncio.wait_for(proc.communicate(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            pytest.fail("the demo did not stop within 30 s of Ctrl-C:\n" + "".join(lines))
        lines.append(rest.decode())
    output = "".join(lines)
    assert proc.returncode == 0, output
    assert "gateway demo-site is online" in output
    assert "L4 user/small" in output  # the tour's first fault: a port disabled
    assert "service center: lvgw-center on SQLite" in output
    assert "helpdesk got OPEN     L4 user/small" in output
    assert "demo: stopped" in output
