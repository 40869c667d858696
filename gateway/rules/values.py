"""The latest readings of one device, as the rules see them."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from gateway.config.rule_checks import ReadingNames
from gateway.model import Quality, Reading, Value

_ABSENT = Quality.ABSENT


@dataclass(slots=True)
class Sample:
    """The latest reading of one point at one instance, and the one before it.

    ``previous`` is kept across a short outage (``continuous`` is then False): a
    device that restarts is first a device that misses a poll or two, and only the
    uptime read before them tells that the one after went back (``change``). After
    an outage long enough to raise the unreachable condition nothing is compared
    across it (that condition is the incident's story). A ``rate`` needs two
    readings of one stretch of answered polls: over any outage a counter may have
    restarted from zero, and one value over the whole gap is no rate.

    Readings the agent answered it has none of (quality ABSENT: the application
    behind it stopped) are passed over the same way: ``previous`` stays the reading
    before them, so an application that restarted within a poll or two is seen by its
    uptime (``change``), and no rate spans them. After an absence that raised an
    ``absent`` rule's condition nothing is compared across it (`forget_previous`).
    """

    reading: Reading
    epoch: int
    previous: Reading | None = None
    continuous: bool = False  # ``previous`` was read before no outage


class SiteValues(list["DeviceValues"]):
    """Every device's values, for counts over the site. ``version`` moves whenever
    something such a count reads changes on any device; ``tallies`` keeps the counts
    made (by the counting node: its version, time and result), so the devices that
    count the same thing at the same time share one count."""

    __slots__ = ("tallies", "version")

    def __init__(self) -> None:
        super().__init__()
        self.version = 0
        self.tallies: dict[int, tuple[int, object, object]] = {}


@dataclass(slots=True)
class Changes:
    """What an update changed that rules may read."""

    points: set[str] = field(default_factory=set)  # watched points read anew
    rows: bool = False  # a table gained or lost an instance


def _same(a: Reading, b: Reading) -> bool:
    """Equal value of the same type (1 is not 1.0 nor True to a rule) and quality."""
    return a.value == b.value and type(a.value) is type(b.value) and a.quality is b.quality


def _unchanged(how: int, old: Sample | None, new: Reading, epoch: int) -> bool:
    """Would every rule reading this point answer as it did on ``old``? ``how`` is a
    `gateway.rules.reads.Watch`: 1 the value, 2 also the previous one, 3 the time."""
    if old is None or how >= 3 or not _same(old.reading, new):
        return False
    if how == 1:
        return True
    # A change or rate: zero before and zero again, between readings of one epoch.
    before = old.previous
    return (
        old.epoch == epoch
        and old.continuous
        and before is not None
        and _same(before, old.reading)
        and before.ts < old.reading.ts < new.ts
    )


@functools.lru_cache(maxsize=8192)  # the same few hundred instances, sorted on every poll
def instance_order(instance: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order of instances: "2" before "10", "1.2" before "1.10"."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in instance.split("."))


@dataclass(slots=True)
class DeviceValues:
    """Latest samples by (point, instance), the instances of each table, and seen values.

    ``seen_targets`` names the values worth remembering per point (those some rule
    asks "has this point ever been ..." about), so memory stays bounded.
    """

    names: ReadingNames
    seen_targets: Mapping[str, frozenset[Value]] = field(default_factory=dict)
    samples: dict[tuple[str, str], Sample] = field(default_factory=dict)
    instances: dict[str, set[str]] = field(default_factory=dict)
    seen: dict[tuple[str, str], set[Value]] = field(default_factory=dict)
    sorted_instances: dict[str, list[str]] = field(default_factory=dict)  # cache by table
    epoch: int = 0
    first_seen: datetime | None = None
    answering: bool = True  # False while the device's polls fail
    # Readings of an earlier epoch are never a ``previous`` (see `Sample`): moved
    # past an outage that raised the unreachable condition (`forget_history`).
    joined: int = 0
    # The points rules read, and how (gateway/rules/reads.py): `update` tells which
    # of them changed, so that rules whose readings did not are not evaluated again.
    watch: Mapping[str, int] = field(default_factory=dict)
    # The site's values and which watched points counts over the site read: a change
    # of those moves the site's version (its cached counts are then made again).
    site: SiteValues | None = None
    site_points: frozenset[str] = frozenset()
    # The points whose samples are kept (None: all): the rules look at no others.
    keep: frozenset[str] | None = None
    # Moves with the site's version when this device moved it; the counts over the
    # site keep this device's own count (by counting node) until it does.
    version: int = 0
    tallies: dict[int, tuple[int, object, object]] = field(default_factory=dict)

    def get(self, point: str, instance: str = "") -> Sample | None:
        return self.samples.get((point, instance))

    def interrupt(self) -> None:
        """The device stopped answering: later readings do not continue earlier ones."""
        self.epoch += 1
        if self.answering and self.site is not None:
            self.site.version += 1
            self.version += 1
        self.answering = False

    def forget_history(self) -> None:
        """The outage was long enough to be an incident of its own: readings from
        before it are never compared with readings after it."""
        self.joined = self.epoch

    def forget_previous(self, points: Iterable[str]) -> None:
        """These points have been absent long enough to be an incident of their own
        (their application stopped): what they read before it is never compared
        with what they read after it."""
        for point in points:
            sample = self.samples.get((point, ""))
            if sample is not None and sample.reading.quality is _ABSENT:
                sample.previous = None

    def update(self, readings: Iterable[Reading], full_poll: bool) -> Changes:
        """Store readings. A full poll lists every row of each table it read, so a row
        it lacks is gone; a partial batch (traps) only adds to what is known."""
        changes = Changes(rows=full_poll and not self.answering)
        self.answering = self.answering or full_poll
        rows: dict[str, set[str]] = {}
        watch, epoch, samples, keep = self.watch, self.epoch, self.samples, self.keep
        joined = self.joined
        table_of = self.names.table_of
        for reading in readings:
            if keep is None or reading.point in keep:
                key = (reading.point, reading.instance)
                old = samples.get(key)
                how = watch.get(reading.point)
                if how is not None and not _unchanged(how, old, reading, epoch):
                    changes.points.add(reading.point)
                if old is None:
                    samples[key] = Sample(reading, epoch)
                else:  # the sample moves on in place: no new object per reading
                    if old.reading.quality is _ABSENT:  # compared across, never a rate
                        old.previous = old.previous if old.epoch >= joined else None
                        old.continuous = False
                    else:
                        old.previous = old.reading if old.epoch >= joined else None
                        old.continuous = old.epoch == epoch
                    old.reading, old.epoch = reading, epoch
            table = table_of(reading.point)
            if table is not None:
                known = self.instances.setdefault(table, set())
                if reading.instance not in known:
                    known.add(reading.instance)
                    self.sorted_instances.pop(table, None)
                    changes.rows = True
                rows.setdefault(table, set()).add(reading.instance)
            targets = self.seen_targets.get(reading.point)
            if targets and reading.value in targets:
                self.seen.setdefault((reading.point, reading.instance), set()).add(reading.value)
        if full_poll and self._prune(rows):
            changes.rows = True
        site = self.site
        if site is not None and (changes.rows or not self.site_points.isdisjoint(changes.points)):
            site.version += 1
            self.version += 1
        return changes

    def _prune(self, rows: dict[str, set[str]]) -> bool:
        gone = {
            (table, instance)
            for table, present in rows.items()
            for instance in self.instances.get(table, set()) - present
        }
        if not gone:
            return False
        for key in [k for k in self.samples if (self.names.table_of(k[0]), k[1]) in gone]:
            del self.samples[key]
            self.seen.pop(key, None)
        for table, instance in gone:
            self.instances[table].discard(instance)
            self.sorted_instances.pop(table, None)
        return True

    def instances_of(self, table: str) -> list[str]:
        """The table's instances in natural order."""
        cached = self.sorted_instances.get(table)
        if cached is None:
            cached = sorted(self.instances.get(table, ()), key=instance_order)
            self.sorted_instances[table] = cached
        return cached

    def label(self, table: str | None, instance: str) -> str:
        """The instance's name from the table's label column (ifName...), else the index."""
        column = self.names.labels.get(table or "")
        sample = self.samples.get((column, instance)) if column else None
        value = sample.reading.value if sample is not None else None
        return str(value) if value not in (None, "") else instance
