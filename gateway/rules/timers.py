"""Deadlines in a heap: what is due at a time is found without looking at the rest."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable, Iterator
from datetime import datetime
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class DeadlineHeap(Generic[K]):
    """At most one deadline per key; `pop_due` yields the keys whose time has come.

    Moving a key's deadline pushes a new entry and leaves the old one in the heap,
    skipped when it surfaces (it no longer matches the key's deadline); the heap is
    rebuilt when such leftovers outnumber the live entries.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, K]] = []
        self._at: dict[K, datetime] = {}
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._at)

    def deadline(self, key: K) -> datetime | None:
        return self._at.get(key)

    def schedule(self, key: K, at: datetime | None) -> None:
        """Set (or with None, remove) the key's deadline."""
        if at is None:
            self._at.pop(key, None)
            return
        if self._at.get(key) == at:
            return
        self._at[key] = at
        heapq.heappush(self._heap, (at, next(self._seq), key))
        if len(self._heap) > 64 + 4 * len(self._at):
            self._heap = [(t, next(self._seq), k) for k, t in self._at.items()]
            heapq.heapify(self._heap)

    def pop_due(self, now: datetime) -> Iterator[K]:
        """Remove and yield the keys whose deadline is at or before ``now``, earliest
        first. Deadlines set meanwhile are not yielded by the same call."""
        heap, at = self._heap, self._at
        due: list[K] = []
        while heap and heap[0][0] <= now:
            when, _seq, key = heapq.heappop(heap)
            if at.get(key) == when:
                del at[key]
                due.append(key)
        return iter(due)
