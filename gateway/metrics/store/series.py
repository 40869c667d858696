"""Numbering of series: (device, point, instance) <-> the small integer sample rows carry.

Kept in memory (a site has thousands of series, not millions) so that adding a
reading and listing devices, points and instances never touch the disk. A new series
gets its number at once and its row in the flush that first stores one of its samples.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterable
from typing import NamedTuple


class SeriesKey(NamedTuple):
    device: str
    point: str
    instance: str


class SeriesRegistry:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._ids: dict[tuple[str, str, str], int] = {}  # SeriesKey, or a plain tuple to find one
        self._keys: dict[int, SeriesKey] = {}
        for series_id, device, point, instance in conn.execute(
            "SELECT id, device, point, instance FROM series"
        ):
            self._remember(int(series_id), SeriesKey(device, point, instance))
        self._next_id = max(self._keys, default=0) + 1
        self._unwritten: dict[int, SeriesKey] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def find(self, key: SeriesKey) -> int | None:
        return self._ids.get(key)

    def id_for(self, key: tuple[str, str, str]) -> int:
        """The number of ``key`` (device, point, instance: a `SeriesKey` or a plain tuple,
        which hashes and compares alike), numbering it now if it is new. A new key's
        strings are interned: every reading of the series then shares them."""
        series_id = self._ids.get(key)
        if series_id is None:
            series_id = self._next_id
            self._next_id += 1
            stored = SeriesKey(*(sys.intern(part) for part in key))
            self._remember(series_id, stored)
            self._unwritten[series_id] = stored
        return series_id

    def write_new(self, conn: sqlite3.Connection) -> None:
        """Insert the rows of series numbered since the last `written` (in a transaction)."""
        conn.executemany(
            "INSERT INTO series (id, device, point, instance) VALUES (?, ?, ?, ?)",
            [(series_id, *key) for series_id, key in self._unwritten.items()],
        )

    def written(self) -> None:
        self._unwritten.clear()

    def forget(self, ids: Iterable[int]) -> None:
        """Drop series whose rows a committed transaction deleted."""
        for series_id in ids:
            key = self._keys.pop(series_id, None)
            if key is not None:
                del self._ids[key]

    def ids(self) -> list[int]:
        """Every stored series number, ascending (for stepping through series in batches)."""
        return sorted(i for i in self._keys if i not in self._unwritten)

    def devices(self) -> list[str]:
        return sorted({key.device for key in self._keys.values()})

    def points(self, device: str) -> list[str]:
        return sorted({key.point for key in self._keys.values() if key.device == device})

    def instances(self, device: str, point: str) -> list[str]:
        return sorted(
            key.instance
            for key in self._keys.values()
            if key.device == device and key.point == point
        )

    def _remember(self, series_id: int, key: SeriesKey) -> None:
        self._ids[key] = series_id
        self._keys[series_id] = key
