"""Background upkeep of the store, one bounded step at a time.

Each `Maintainer.step` does the first piece of work that is due and returns; none
holds a transaction over more than ``series_per_step`` series, so queries queued
behind it wait a fraction of a second. In order:

1. compact: every 3 hours, copy what ``recent`` (time order) holds of the closed
   3 hours to ``raw`` (series order), a batch of series at a time, then delete it
   from ``recent``. Each move touches every series' newest pages
   (and their neighbours when a page splits) whatever it carries, so moving three
   hours at once writes a third of what three hourly moves would. A sample that
   arrived late for an hour already aggregated has that hour redone.
2. downsample: fold six hours of ``raw`` into ``agg_5m`` and ``agg_1h``; aggregates
   are only needed beyond the raw window, so they are written four times a day
   instead of every five minutes (each pass touches every series' newest page).
3. prune: delete what is older than each tier's retention (or its budget trim).
4. budget: when the data outgrows the budget, trim the oldest day of five-minute
   aggregates, then of hourly ones, then the oldest hour of raw samples, each down to
   its floor; otherwise give free pages beyond a reserve back to the file system.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter

from gateway.metrics.store.buckets import encode, fold, merge
from gateway.metrics.store.buffer import WriteBuffer
from gateway.metrics.store.db import FileSize, Meta, file_size, log_limit, transaction
from gateway.metrics.store.recent import RecentIndex
from gateway.metrics.store.series import SeriesRegistry
from gateway.metrics.store.types import Resolution, StoreConfig
from gateway.sqlite import Database

log = logging.getLogger(__name__)

HOUR = 3600
DAY = 24 * HOUR
GRACE = 120  # seconds after a period ends before it is compacted: stragglers land first
COMPACT_EVERY = 3 * HOUR
DOWNSAMPLE_CHUNK = 6 * HOUR  # a multiple of COMPACT_EVERY
VACUUM_PAGES_PER_STEP = 2560  # 10 MiB of 4 KiB pages

TABLES = {Resolution.RAW: "raw", Resolution.FIVE_MINUTES: "agg_5m", Resolution.HOUR: "agg_1h"}
# Pruning waits until this much is due, so each pass deletes a worthwhile slice.
PRUNE_STEP = {Resolution.RAW: 6 * HOUR, Resolution.FIVE_MINUTES: DAY, Resolution.HOUR: DAY}
# Over budget: what one trim takes off a tier, tiers in the order they give way,
# and the history each keeps whatever the budget.
TRIM_STEP = {Resolution.FIVE_MINUTES: DAY, Resolution.HOUR: DAY, Resolution.RAW: HOUR}
FLOOR = {Resolution.FIVE_MINUTES: 7 * DAY, Resolution.HOUR: 30 * DAY, Resolution.RAW: 12 * HOUR}

DOWNSAMPLED = "downsampled_until"
_INSERT_AGG = (
    "INSERT OR REPLACE INTO {} (series_id, ts, min, max, sum, count, last)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def pruned_key(tier: Resolution) -> str:
    return f"pruned_until.{TABLES[tier]}"


def trim_key(tier: Resolution) -> str:
    return f"trimmed_until.{TABLES[tier]}"


def floor_to(ts: int, width: int) -> int:
    return ts - ts % width


def _marks(count: int) -> str:
    return ", ".join("?" * count)


@dataclass(slots=True)
class _Pass:
    """A pass over every series in batches: how far it got, and toward what."""

    target: int  # the watermark the pass sets once every series is done
    after_id: int = 0  # the last series done
    first: int = 0  # compaction: the oldest sample in recent when the pass began


class Maintainer:
    def __init__(
        self,
        db: Database,
        meta: Meta,
        registry: SeriesRegistry,
        recent: RecentIndex,
        config: StoreConfig,
    ) -> None:
        self._db = db
        self._conn = db.conn
        self._recent = recent
        self._meta = meta
        self._registry = registry
        self._config = config
        self._retention = {
            Resolution.RAW: int(config.raw_retention.total_seconds()),
            Resolution.FIVE_MINUTES: int(config.five_minute_retention.total_seconds()),
            Resolution.HOUR: int(config.hour_retention.total_seconds()),
        }
        self._floor = {t: min(FLOOR[t], self._retention[t]) for t in FLOOR}
        self._compacting: _Pass | None = None
        self._downsampling: _Pass | None = None
        self._pruning: dict[Resolution, _Pass] = {}
        self.dropped_late = 0  # samples that arrived after their hour's raw data was pruned
        self.over_budget = False

    # -- what the queries need to know ----------------------------------------------

    def downsampled_until(self) -> int | None:
        """Aggregates are stored for every bucket before this; None: none yet."""
        value = self._meta.get(DOWNSAMPLED, -1)
        return None if value < 0 else value

    def kept_from(self, tier: Resolution, now: int) -> int:
        """The oldest time ``tier`` still covers (older data is pruned or being pruned)."""
        age = floor_to(now - self._retention[tier], HOUR)
        return max(age, self._meta.get(trim_key(tier), 0), self._meta.get(pruned_key(tier), 0))

    def reserve_bytes(self) -> int:
        return self._config.budget_bytes // 16

    def data_limit_bytes(self) -> int:
        """The most the live data may take: budget less the free-page reserve and log."""
        budget = self._config.budget_bytes
        return budget - self.reserve_bytes() - log_limit(budget)

    # -- the steps ------------------------------------------------------------------

    def step(self, now: int, buffer: WriteBuffer) -> bool:
        """Do the first piece of work due at ``now``; False when nothing was due.

        ``buffer``: series with samples still waiting there are never forgotten.
        """
        return (
            self._compact(now)
            or self._downsample(now)
            or self._prune(now, buffer)
            or self._fit_budget(now)
        )

    def _first_recent(self) -> int | None:
        row = self._conn.execute("SELECT ts FROM recent ORDER BY ts LIMIT 1").fetchone()
        return None if row is None else int(row[0])

    def note_flushed(self, oldest: int) -> None:
        """A flush committed samples from ``oldest`` on: a straggler for a compaction
        pass under way makes it start over, so the series it already did get it too."""
        work = self._compacting
        if work is not None and oldest < work.target:
            work.after_id = 0

    def _compact(self, now: int) -> bool:
        """Copy a batch of series' closed samples from recent to raw; after the last
        batch, fix up stragglers and delete what was copied from recent."""
        work = self._compacting
        if work is None:
            cutoff = floor_to(now - GRACE, COMPACT_EVERY)
            first = self._first_recent()
            if first is None or first >= cutoff:
                return False
            work = self._compacting = _Pass(cutoff, first=first)
        too_old = self._meta.get(pruned_key(Resolution.RAW), 0)  # raw already pruned there
        batch = self._batch_after(work.after_id)
        finished = len(batch) < self._config.series_per_step
        dropped = 0
        with transaction(self._conn, self._meta):
            if batch:
                self._conn.execute(
                    "INSERT OR REPLACE INTO raw (series_id, ts, value)"
                    " SELECT series_id, ts, value FROM recent WHERE ts >= ? AND ts < ?"
                    f" AND series_id IN ({_marks(len(batch))}) ORDER BY series_id, ts",
                    (too_old, work.target, *batch),
                )
            if finished:
                dropped = self._finish_compaction(work, too_old)
        if not finished:
            work.after_id = batch[-1]
            return True
        self._compacting = None
        self._recent.drop_before(work.target)
        self.dropped_late += dropped
        return True

    def _finish_compaction(self, work: _Pass, too_old: int) -> int:
        """Redo the aggregates of hours that got stragglers, then delete what was
        copied; how many samples came too late to keep."""
        wm = self.downsampled_until()
        if wm is None:  # the first compaction: downsampling starts at the oldest data
            self._meta.set(DOWNSAMPLED, floor_to(work.first, DOWNSAMPLE_CHUNK))
        else:
            pass_end = wm + DOWNSAMPLE_CHUNK if self._downsampling else wm
            late = self._conn.execute(
                "SELECT DISTINCT series_id, ts - ts % ? FROM recent WHERE ts >= ? AND ts < ?",
                (HOUR, too_old, min(work.target, pass_end)),
            ).fetchall()
            for series_id, hour in late:
                self._aggregate([series_id], hour, hour + HOUR, replace=True)
        dropped = self._conn.execute("DELETE FROM recent WHERE ts < ?", (too_old,)).rowcount
        self._conn.execute("DELETE FROM recent WHERE ts < ?", (work.target,))
        return max(0, dropped)

    def _downsample(self, now: int) -> bool:
        wm = self.downsampled_until()
        if wm is None:
            return False
        end = wm + DOWNSAMPLE_CHUNK
        # Everything before the frontier is in raw: compacted, and the flush of any
        # straggler comes first (and then redoes its hour, see _compact).
        frontier = floor_to(now - GRACE, COMPACT_EVERY)
        first = self._first_recent()
        if end > (frontier if first is None else min(first, frontier)):
            return False
        work = self._downsampling or _Pass(target=end)
        batch = self._batch_after(work.after_id)
        with transaction(self._conn, self._meta):
            if batch:
                self._aggregate(batch, wm, end, replace=False)
            if len(batch) < self._config.series_per_step:
                self._meta.set(DOWNSAMPLED, end)
        if len(batch) < self._config.series_per_step:
            self._downsampling = None
        else:
            work.after_id = batch[-1]
            self._downsampling = work
        return True

    def _aggregate(self, ids: list[int], start: int, end: int, *, replace: bool) -> None:
        """Write the aggregates of series ``ids`` over whole hours ``[start, end)``,
        folded from raw samples read in one statement."""
        if replace:  # a redo: buckets may have been written with fewer samples
            for table in ("agg_5m", "agg_1h"):
                self._conn.executemany(
                    f"DELETE FROM {table} WHERE series_id = ? AND ts >= ? AND ts < ?",
                    [(series_id, start, end) for series_id in ids],
                )
        # `IN (...)` with the range on ts: one index seek per series.
        rows = self._conn.execute(
            f"SELECT series_id, ts, value FROM raw WHERE series_id IN ({_marks(len(ids))})"
            " AND ts >= ? AND ts < ? ORDER BY series_id, ts",
            (*ids, start, end),
        )
        five: list[tuple[object, ...]] = []
        hour: list[tuple[object, ...]] = []
        for series_id, group in groupby(rows, key=itemgetter(0)):
            buckets = fold(((ts, value) for _, ts, value in group), Resolution.FIVE_MINUTES)
            five.extend((series_id, b.start, *encode(b)) for b in buckets)
            hour.extend((series_id, b.start, *encode(b)) for b in merge(buckets, HOUR))
        self._conn.executemany(_INSERT_AGG.format("agg_5m"), five)
        self._conn.executemany(_INSERT_AGG.format("agg_1h"), hour)

    def _batch_after(self, after_id: int) -> list[int]:
        return self._registry.ids_after(after_id, self._config.series_per_step)

    def _prune_target(self, tier: Resolution, now: int) -> int | None:
        """Where pruning ``tier`` would cut now, or None when no cut is due."""
        done = self._meta.get(pruned_key(tier), 0)
        age = floor_to(now - self._retention[tier], HOUR)
        trim = self._meta.get(trim_key(tier), 0)
        target = max(age, trim)
        if tier is Resolution.RAW:  # raw samples go only once aggregated
            wm = self.downsampled_until()
            target = min(target, -1 if wm is None else wm)
        if target >= done + PRUNE_STEP[tier] or (trim > done and target > done):
            return target
        return None

    def _prune(self, now: int, buffer: WriteBuffer) -> bool:
        for tier in TABLES:
            work = self._pruning.get(tier)
            if work is None:
                target = self._prune_target(tier, now)
                if target is None:
                    continue
                work = _Pass(target)
            self._prune_batch(tier, work, buffer)
            return True
        return False

    def _prune_batch(self, tier: Resolution, work: _Pass, buffer: WriteBuffer) -> None:
        batch = self._batch_after(work.after_id)
        finished = len(batch) < self._config.series_per_step
        forgotten: list[int] = []
        with transaction(self._conn, self._meta):
            self._conn.executemany(
                f"DELETE FROM {TABLES[tier]} WHERE series_id = ? AND ts < ?",
                [(series_id, work.target) for series_id in batch],
            )
            if finished:
                self._meta.set(pruned_key(tier), work.target)
                if tier is Resolution.HOUR:
                    forgotten = self._forget_series_older_than(work.target, buffer)
        self._registry.forget(forgotten)
        self._recent.forget(forgotten)
        if finished:
            self._pruning.pop(tier, None)
            log.debug("pruned %s before %d", TABLES[tier], work.target)
        else:
            work.after_id = batch[-1]
            self._pruning[tier] = work

    def _forget_series_older_than(self, cutoff: int, buffer: WriteBuffer) -> list[int]:
        """Delete series whose newest sample is older than every tier keeps."""
        ids = [
            int(r[0])
            for r in self._conn.execute("SELECT series_id FROM latest WHERE ts < ?", (cutoff,))
            if buffer.newest(int(r[0])) is None
        ]
        for table in ("series", "latest", "raw", "agg_5m", "agg_1h"):
            column = "id" if table == "series" else "series_id"
            self._conn.executemany(f"DELETE FROM {table} WHERE {column} = ?", [(i,) for i in ids])
        return ids

    def _fit_budget(self, now: int) -> bool:
        """Trim a tier when the data is over its limit, else give back excess free pages."""
        size = file_size(self._db)
        if size.used_bytes > self.data_limit_bytes():
            return self._trim(now, size.used_bytes)
        self._set_over_budget(False, size.used_bytes)
        return self._vacuum(size)

    def _trim(self, now: int, used: int) -> bool:
        for tier in TRIM_STEP:
            oldest = self._oldest(tier)
            if oldest is None:
                continue
            cut = min(
                floor_to(oldest, HOUR) + TRIM_STEP[tier], floor_to(now - self._floor[tier], HOUR)
            )
            if cut <= max(oldest, self._meta.get(trim_key(tier), 0)):
                continue  # this tier is down to its floor (or its trim is still pending)
            if tier is Resolution.RAW and cut > (self.downsampled_until() or 0):
                continue  # raw samples are not aggregated that far yet
            with transaction(self._conn, self._meta):
                self._meta.set(trim_key(tier), cut)
            log.info("metric store over budget: trimming %s before %d", TABLES[tier], cut)
            return True
        self._set_over_budget(True, used)
        return False

    def _oldest(self, tier: Resolution) -> int | None:
        # One index seek per series: a plain min(ts) would read the whole table.
        row = self._conn.execute(
            f"SELECT min((SELECT ts FROM {TABLES[tier]} WHERE series_id = s.id"
            " ORDER BY ts LIMIT 1)) FROM series AS s"
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def _set_over_budget(self, over: bool, used: int) -> None:
        if over and not self.over_budget:
            log.warning(
                "metric store above its budget with every tier at its floor: used=%d budget=%d",
                used,
                self._config.budget_bytes,
            )
        elif self.over_budget and not over:
            log.info("metric store back within its budget: used=%d", used)
        self.over_budget = over

    def _vacuum(self, size: FileSize) -> bool:
        excess = size.free_pages - self.reserve_bytes() // size.page_size
        if excess <= 0:
            return False
        pages = min(excess, VACUUM_PAGES_PER_STEP)
        self._conn.execute(f"PRAGMA incremental_vacuum({pages})").fetchall()
        # False if nothing moved, so a caller looping until idle cannot spin here.
        return file_size(self._db).free_pages < size.free_pages
