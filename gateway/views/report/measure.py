"""Reading what the report needs out of the metric store and the status snapshot.

Small pure helpers (episodes of a 0/1 series, units, number formats) and the lookups
that join the two sources: states and labels come from the snapshot (the store keeps
numbers), numbers and their history from the store; a state the snapshot lacks is
read from the store as its raw code and named with the profile's ``states``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.config.load import LoadedConfig
from gateway.config.meanings import Meaning, column_meanings, points_meaning
from gateway.config.profile import Point, Profile
from gateway.config.site import Device
from gateway.i18n import Translator, translator
from gateway.metrics.store.types import Sample
from gateway.proactive.calendar import site_zone
from gateway.proactive.ports import History
from gateway.snapshot import DeviceStatus, ReadingValue


@dataclass(frozen=True, slots=True)
class Episode:
    """A stretch during which a 0/1 series was 1 (mains lost, on battery...)."""

    start: datetime
    end: datetime | None  # None: still going at the last sample

    def duration(self, now: datetime) -> timedelta:
        return (self.end or now) - self.start


def episodes(samples: Sequence[Sample], step: timedelta) -> list[Episode]:
    """Runs of buckets whose maximum is at least 0.5 (a true bit at any time in them)."""
    found: list[Episode] = []
    start: datetime | None = None
    last_on: datetime | None = None
    for sample in samples:
        if sample.max >= 0.5:
            if start is None:
                start = sample.ts
            last_on = sample.ts
        elif start is not None and last_on is not None:
            found.append(Episode(start, last_on + step))
            start = last_on = None
    if start is not None:
        found.append(Episode(start, None))
    return found


class Lookup:
    """One device's profile, snapshot entry and history, for the report's questions."""

    def __init__(
        self, config: LoadedConfig, device: Device, entry: DeviceStatus | None, history: History
    ) -> None:
        """``entry``: the device in the status snapshot (None: not in it)."""
        self.config = config
        self.device = device
        self.profile: Profile | None = config.profiles.get(device.profile)
        self.entry = entry
        self.history = history
        self._points: list[str] | None = None

    @property
    def label(self) -> str:
        return self.device.name or self.device.id

    async def points(self) -> list[str]:
        if self._points is None:
            self._points = await self.history.points(self.device.id)
        return self._points

    async def has(self, point: str) -> bool:
        return point in await self.points()

    def named(self, *meanings: Meaning) -> str | None:
        """The device's first reading that means one of ``meanings`` (its profile says)."""
        return next(iter(points_meaning(self.profile, *meanings)), None)

    def beside(self, column: str, meaning: Meaning) -> str | None:
        """The column of ``column``'s table that means ``meaning`` (a fan's presence
        beside its state, a temperature's limit beside its reading)."""
        table = column.split(".", 1)[0] + "."
        return next((n for n in points_meaning(self.profile, meaning) if n.startswith(table)), None)

    def is_column(self, point: str) -> bool:
        return self.profile is not None and point in column_meanings(self.profile)

    async def first_of(self, *meanings: Meaning) -> str | None:
        """The first reading that means one of ``meanings`` and has history."""
        available = await self.points()
        candidates = points_meaning(self.profile, *meanings)
        return next((name for name in candidates if name in available), None)

    async def instances(self, point: str) -> list[str]:
        return await self.history.instances(self.device.id, point)

    # A point the profile does not have (``named()`` gave None) is never measured.

    async def latest(self, point: str | None, instance: str = "") -> float | None:
        if point is None:
            return None
        sample = await self.history.latest(self.device.id, point, instance)
        return None if sample is None else sample.last

    async def samples(
        self, point: str, instance: str, start: datetime, end: datetime, step: timedelta
    ) -> list[Sample]:
        series = await self.history.series(self.device.id, point, instance, start, end, step)
        return list(series.samples)

    def text(self, point: str | None, instance: str) -> str | None:
        """A table state or label from the snapshot."""
        return self.texts(point).get(instance)

    def texts(self, point: str | None) -> dict[str, str]:
        if self.entry is None or point is None:
            return {}
        return dict(self.entry.tables.get(point, {}))

    def reading(self, point: str) -> ReadingValue | None:
        """A scalar reading from the snapshot."""
        return None if self.entry is None else self.entry.readings.get(point)

    async def state(self, point: str | None, instance: str = "") -> str | None:
        """A state by name: the snapshot's, else the store's raw code named by the profile."""
        if point is None:
            return None
        if instance:
            named = self.text(point, instance)
        else:  # a few scalars are the snapshot's readings; every one with a meaning is meant
            reading = self.reading(point)
            meant = self.entry.meant.get(point, {}).get("") if self.entry else None
            named = str(reading.value) if reading is not None else meant_text(meant)
        if named is not None:
            return named
        code = await self.latest(point, instance)
        definition = point_definition(self.profile, point)
        if code is None or definition is None:
            return None
        return definition.states.get(int(code), f"unknown({int(code)})")

    def instance_label(self, table_point: str | None, instance: str) -> str:
        """A table row's label column (a disk's volume, a sensor's name), else its index."""
        if self.profile is not None and table_point is not None:
            table_name = table_point.split(".", 1)[0]
            table = self.profile.tables.get(table_name)
            if table is not None and table.label:
                label = self.text(f"{table_name}.{table.label}", instance)
                if label:
                    return label
        return instance


def meant_text(value: object) -> str | None:
    """A state among the snapshot's meant readings (a number there is no state name)."""
    return value if isinstance(value, str) else None


def bitfield_of(profile: Profile | None, name: str) -> Point | None:
    """The bitfield point whose bit reading ``name`` is (``panel.system.mains_fail``)."""
    owner, _, bit = name.rpartition(".")
    definition = point_definition(profile, owner) if owner else None
    return definition if definition is not None and bit in definition.bits.values() else None


def point_definition(profile: Profile | None, name: str) -> Point | None:
    """The profile's definition of reading ``name`` (a scalar or ``table.column``)."""
    if profile is None:
        return None
    if name in profile.points:
        return profile.points[name]
    table, _, column = name.partition(".")
    if table in profile.tables:
        return profile.tables[table].columns.get(column)
    return None


def point_unit(profile: Profile | None, name: str) -> str:
    """The unit of reading ``name``; a counter's ``.rate`` is per second."""
    base = name.removesuffix(".rate")
    definition = point_definition(profile, base)
    unit = definition.unit if definition is not None else ""
    if name.endswith(".rate"):
        return f"{unit}/s" if unit else "/s"
    return unit


def number(value: float | None, unit: str = "") -> str:
    """A value for people: thousands grouped, at most two decimals, then the unit."""
    if value is None:
        return "-"
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif value == int(value):
        text = f"{int(value)}"
    else:
        text = f"{value:.2f}".rstrip("0").rstrip(".")
    if not unit:
        return text
    return f"{text} {unit}" if unit[0].isalnum() else f"{text}{unit}"


ENGLISH = translator()


def size_mb(megabytes: float | None, tr: Translator = ENGLISH) -> str:
    """A disk size given in MB (as NVR MIBs do), in decimal units like its label."""
    if megabytes is None:
        return tr.gettext("size not reported")
    if megabytes >= 1_000_000:
        return f"{megabytes / 1_000_000:.1f} TB"
    return f"{megabytes / 1000:.0f} GB"


def local_time(config: LoadedConfig, when: datetime | None) -> str:
    if when is None:
        return "-"
    return when.astimezone(site_zone(config.site_file.site)).strftime("%Y-%m-%d %H:%M")


def span(delta: timedelta, tr: Translator = ENGLISH) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return tr.gettext("{minutes} min").format(minutes=minutes)
    if minutes < 48 * 60:
        return tr.gettext("{hours} h {minutes} min").format(
            hours=minutes // 60, minutes=f"{minutes % 60:02d}"
        )
    return tr.gettext("{days} days").format(days=minutes // 1440)
