"""State keyed by what outsiders choose (a sender's address, a trap OID), kept bounded.

A LAN neighbour can make up addresses and OIDs without end; a dict keyed by them is a
memory leak it controls. These keep at most ``max_keys`` keys and forget the one
counted least recently, while the totals stay exact.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import ItemsView


class BoundedCounter:
    """Counts per key, for at most ``max_keys`` keys at once."""

    def __init__(self, max_keys: int) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.max_keys = max_keys
        self.total = 0  # every count, forgotten keys included
        self.forgotten = 0  # keys dropped to make room
        self._counts: OrderedDict[str, int] = OrderedDict()

    def add(self, key: str) -> int:
        """Count ``key`` once more; returns its count (1: new, or forgotten since)."""
        self.total += 1
        count = self._counts.pop(key, 0) + 1
        self._counts[key] = count
        if len(self._counts) > self.max_keys:
            self._counts.popitem(last=False)
            self.forgotten += 1
        return count

    def __getitem__(self, key: str) -> int:
        return self._counts.get(key, 0)

    def __len__(self) -> int:
        return len(self._counts)

    def items(self) -> ItemsView[str, int]:
        return self._counts.items()

    def most_common(self, n: int) -> list[tuple[str, int]]:
        return sorted(self._counts.items(), key=lambda item: item[1], reverse=True)[:n]
