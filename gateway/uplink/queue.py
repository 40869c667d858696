"""What the uplink delivers from: a queue it reads in order and acknowledges."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    id: int
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False


class DeliveryQueue(Protocol):
    """Messages stay queued until acknowledged: delivery is at least once."""

    async def put(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> int: ...

    async def pending(self, limit: int) -> Sequence[OutboundMessage]: ...

    async def ack(self, ids: Sequence[int]) -> None: ...

    async def wait_for_items(self) -> None: ...

    async def backlog(self) -> int: ...


class MemoryQueue:
    """An in-memory DeliveryQueue (lost on restart): for tests and the demo."""

    def __init__(self) -> None:
        self._items: dict[int, OutboundMessage] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()

    async def put(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> int:
        message = OutboundMessage(next(self._ids), topic, payload, qos, retain)
        self._items[message.id] = message
        self._changed.set()
        return message.id

    async def pending(self, limit: int) -> Sequence[OutboundMessage]:
        return list(itertools.islice(self._items.values(), limit))

    async def ack(self, ids: Sequence[int]) -> None:
        for message_id in ids:
            self._items.pop(message_id, None)

    async def wait_for_items(self) -> None:
        while not self._items:
            self._changed.clear()
            await self._changed.wait()

    async def backlog(self) -> int:
        return len(self._items)
