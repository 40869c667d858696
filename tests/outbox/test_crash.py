"""kill -9 in the middle of a stream of ticket puts: every put that returned survives."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.outbox import MessageClass, Outbox
from tests.outbox.messages import number

pytestmark = pytest.mark.integration

WRITER = Path(__file__).with_name("ticket_writer.py")
REPO = Path(__file__).resolve().parents[2]
COUNT = 100_000  # far more than it can write before the kill
KILL_AFTER = 300  # puts reported as stored before the SIGKILL


async def _run_and_kill(db_path: Path, concurrency: int) -> dict[int, int]:
    """Start the writer, SIGKILL it mid-stream; every ``id -> seq`` it reported."""
    writer = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WRITER),
        str(db_path),
        str(COUNT),
        str(concurrency),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert writer.stdout is not None
    assert writer.stderr is not None
    reported: dict[int, int] = {}
    try:
        while len(reported) < KILL_AFTER and (line := await writer.stdout.readline()):
            message_id, seq = map(int, line.split())
            reported[message_id] = seq
        _sigkill(writer.pid)
        # What it printed before dying was stored too: read the pipe to its end.
        while line := await writer.stdout.readline():
            if line.endswith(b"\n"):  # a half-written last line proves nothing
                message_id, seq = map(int, line.split())
                reported[message_id] = seq
    finally:
        _sigkill(writer.pid)  # a no-op unless the test itself failed before the kill
        stderr = (await writer.stderr.read()).decode()
        await writer.wait()
    assert writer.returncode == -signal.SIGKILL, stderr
    assert len(reported) >= KILL_AFTER, stderr
    return reported


def _sigkill(pid: int) -> None:
    # os.kill, not Process.kill: Popen.send_signal polls first and may reap the child
    # itself, leaving asyncio's watcher to report returncode 255.
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("concurrency", [1, 16])
async def test_every_reported_ticket_survives_sigkill(db_path: Path, concurrency: int) -> None:
    reported = await _run_and_kill(db_path, concurrency)
    assert db_path.with_name(db_path.name + "-wal").exists()  # left as a crash leaves it

    async with Outbox(db_path) as outbox:
        stored = await outbox.pending(COUNT)
        stats = await outbox.stats()
    assert all(m.message_class is MessageClass.TICKET for m in stored)
    ids = [m.id for m in stored]
    seqs = [number(m.payload) for m in stored]

    assert ids == sorted(set(ids))  # in order, no duplicates
    assert len(set(seqs)) == len(seqs)
    by_id = dict(zip(ids, seqs, strict=True))
    missing = {i: s for i, s in reported.items() if by_id.get(i) != s}
    assert missing == {}, "puts that returned but were not stored"
    # At most the puts in flight at the kill were stored without being reported.
    assert len(stored) - len(reported) <= concurrency
    # No gap: the writers take sequence numbers in the order they call put, and ids
    # follow that order, so what is stored is exactly 0..N-1.
    assert seqs == list(range(len(stored)))
    assert stats.backlog[MessageClass.TICKET].messages == len(stored)
