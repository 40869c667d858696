"""Puts ticket events into an outbox and prints ``ID SEQ`` after each put returns.

Run by test_crash.py, which SIGKILLs it mid-way:
    python tests/outbox/ticket_writer.py DB COUNT CONCURRENCY
Each of CONCURRENCY tasks puts its share of sequence numbers 0..COUNT-1; with 1 the
puts are strictly one after another.
"""

from __future__ import annotations

import asyncio
import sys

from gateway.outbox import MessageClass, Outbox, OutboxMessage


async def write(path: str, count: int, concurrency: int) -> None:
    async with Outbox(path) as outbox:
        next_seq = iter(range(count))

        async def writer() -> None:
            for seq in next_seq:
                message = OutboxMessage(
                    topic="lvgw/v1/site-001/tickets",
                    payload=f'{{"seq": {seq}}}'.encode(),
                    message_class=MessageClass.TICKET,
                )
                message_id = await outbox.put(message)
                sys.stdout.write(f"{message_id} {seq}\n")
                sys.stdout.flush()

        async with asyncio.TaskGroup() as tasks:
            for _ in range(concurrency):
                tasks.create_task(writer())


if __name__ == "__main__":
    asyncio.run(write(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
