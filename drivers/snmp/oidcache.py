"""A cache bounded by the bytes it holds, not by its number of entries.

The OIDs in an agent's answers are the agent's choice: 65,536 of the longest (128
sub-identifiers) would hold 156 MB in a cache bounded by count. This one counts the
key's and the value's length plus a fixed overhead per entry, and starts afresh when
it is full (the OIDs a site polls come back at once).
"""

from __future__ import annotations

from collections.abc import ItemsView
from typing import Generic, TypeVar

K = TypeVar("K", bytes, str)
V = TypeVar("V", bytes, str)

ENTRY_OVERHEAD = 150  # bytes of two objects' headers and a dict slot, about


class ByteBoundedCache(Generic[K, V]):
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        return self._entries.get(key)

    def put(self, key: K, value: V) -> None:
        cost = len(key) + len(value) + ENTRY_OVERHEAD
        if cost > self.max_bytes // 16:
            return  # one entry never takes a large share
        if self.bytes + cost > self.max_bytes:
            self.clear()
        self._entries[key] = value
        self.bytes += cost

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0

    def items(self) -> ItemsView[K, V]:
        return self._entries.items()

    def __len__(self) -> int:
        return len(self._entries)
