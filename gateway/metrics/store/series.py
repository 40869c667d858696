"""Numbering of series: (device, point, instance) <-> the small integer sample rows carry.

Kept in memory (a site has thousands of series, up to a few hundred thousand) so that
adding a reading and listing devices, points and instances never touch the disk. A
new series gets its number at once and its row in the flush that first stores one of
its samples.

Per series it holds the key (one tuple of three interned strings), one dictionary
entry from the key to its number, and one slot (a pointer) in the list of keys by
number and in its device's list: numbers are dense, so a list indexed by number is
cheaper than a second dictionary. Listing a device's points walks that device's
series only, so a job that asks it of every device (the forecasts) costs the site's
size, not its square.
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
        self._keys: list[SeriesKey | None] = [None]  # by number; numbers start at 1
        self._by_device: dict[str, list[int]] = {}  # each device's numbers, ascending
        self._count = 0
        for series_id, device, point, instance in conn.execute(
            "SELECT id, device, point, instance FROM series ORDER BY id"
        ):
            self._remember(int(series_id), _interned((device, point, instance)))
        self._unwritten: dict[int, SeriesKey] = {}

    def __len__(self) -> int:
        return self._count

    def find(self, key: tuple[str, str, str]) -> int | None:
        return self._ids.get(key)

    def id_for(self, key: tuple[str, str, str]) -> int:
        """The number of ``key`` (device, point, instance: a `SeriesKey` or a plain tuple,
        which hashes and compares alike), numbering it now if it is new. A new key's
        strings are interned: every reading of the series then shares them."""
        series_id = self._ids.get(key)
        if series_id is None:
            series_id = len(self._keys)
            stored = _interned(key)
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
            key = self._keys[series_id] if 0 < series_id < len(self._keys) else None
            if key is None:
                continue
            self._keys[series_id] = None
            del self._ids[key]
            self._count -= 1
            numbers = self._by_device[key.device]
            numbers.remove(series_id)
            if not numbers:
                del self._by_device[key.device]

    def ids_after(self, after: int, count: int) -> list[int]:
        """Up to ``count`` stored series numbers above ``after``, ascending (for stepping
        through series in batches); series not yet written are left out."""
        found: list[int] = []
        keys, unwritten = self._keys, self._unwritten
        for series_id in range(max(after + 1, 1), len(keys)):
            if keys[series_id] is not None and series_id not in unwritten:
                found.append(series_id)
                if len(found) == count:
                    break
        return found

    def devices(self) -> list[str]:
        return sorted(self._by_device)

    def points(self, device: str) -> list[str]:
        return sorted({key.point for key in self._device_keys(device)})

    def instances(self, device: str, point: str) -> list[str]:
        return sorted(key.instance for key in self._device_keys(device) if key.point == point)

    def _device_keys(self, device: str) -> list[SeriesKey]:
        keys = self._keys
        return [key for i in self._by_device.get(device, ()) if (key := keys[i]) is not None]

    def _remember(self, series_id: int, key: SeriesKey) -> None:
        keys = self._keys
        if series_id >= len(keys):
            keys.extend([None] * (series_id + 1 - len(keys)))
        keys[series_id] = key
        self._ids[key] = series_id
        self._by_device.setdefault(key.device, []).append(series_id)
        self._count += 1


def _interned(key: tuple[str, str, str]) -> SeriesKey:
    return SeriesKey(*(sys.intern(part) for part in key))
