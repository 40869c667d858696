"""A full disk, simulated with a cap on the file's pages (`max_db_bytes`).

SQLite reports SQLITE_FULL exactly as it does when the file system runs out of space.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.outbox import MessageClass, Outbox, OutboxFullError
from tests.outbox.messages import metric, number, ticket

CAP = 256 * 1024  # 64 pages of 4 KiB
PAYLOAD = 2000


async def _fill_with_tickets(outbox: Outbox) -> tuple[list[int], OutboxFullError]:
    stored: list[int] = []
    for n in range(CAP // PAYLOAD * 2):  # twice what can fit: it must fill up
        try:
            stored.append(await outbox.put(ticket(n, size=PAYLOAD)))
        except OutboxFullError as exc:
            return stored, exc
    raise AssertionError(f"{len(stored)} tickets fitted under a {CAP}-byte cap")


async def test_a_full_disk_refuses_a_ticket_loudly_and_loses_nothing(db_path: Path) -> None:
    async with Outbox(db_path, max_db_bytes=CAP) as outbox:
        stored, error = await _fill_with_tickets(outbox)
        assert str(db_path) in str(error)
        assert "no space" in str(error)

        waiting = await outbox.pending(1000)
        assert [m.id for m in waiting] == stored
        assert [number(m.payload) for m in waiting] == list(range(len(stored)))
        with pytest.raises(OutboxFullError):  # still full: the caller's retry fails too
            await outbox.put(ticket(len(stored), size=PAYLOAD))

        await outbox.ack(stored[:10])  # the uplink delivers some: space is freed
        retried = await outbox.put(ticket(len(stored), size=PAYLOAD))
        assert retried > stored[-1]

    async with Outbox(db_path) as outbox:
        after_reopen = await outbox.pending(1000)
    assert [m.id for m in after_reopen] == [*stored[10:], retried]


async def test_metrics_make_room_for_tickets_on_a_full_disk(db_path: Path) -> None:
    async with Outbox(db_path, max_db_bytes=CAP) as outbox:
        # Metrics alone never fail on a full disk: the oldest give way to the newest.
        for n in range(CAP // PAYLOAD * 2):
            await outbox.put(metric(n, size=PAYLOAD))
        assert (await outbox.stats()).dropped[MessageClass.METRIC].messages > 0

        tickets = [await outbox.put(ticket(n, size=PAYLOAD)) for n in range(20)]
        stats = await outbox.stats()
        assert stats.backlog[MessageClass.TICKET].messages == 20
        waiting = await outbox.pending(1000, classes=[MessageClass.METRIC])
        assert len(waiting) == stats.backlog[MessageClass.METRIC].messages
        metric_numbers = [number(m.payload) for m in waiting]
        assert metric_numbers == sorted(metric_numbers)  # what is left is the newest, in order
        assert metric_numbers[-1] == CAP // PAYLOAD * 2 - 1

        # Once no metric is left to give way, a ticket is refused, never a ticket dropped.
        stored, _ = await _fill_with_tickets(outbox)
        assert (await outbox.stats()).backlog[MessageClass.METRIC].messages == 0
        all_tickets = await outbox.pending(1000, classes=[MessageClass.TICKET])
        assert [m.id for m in all_tickets] == tickets + stored
