"""A device's tables (ports, disks, camera channels, trunks, zones, sensors) as rows
people read: one row per instance, its name first, states as words with their state
(OK or out of order) and numbers in their units (2.26 TB, 9.60 Mbit/s, 0.25/s).

Made from the status snapshot (the table states and labels, and the ``meant``
readings) and the profile's table layout; how a column is shown follows what it means,
never its name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gateway.config.meanings import (
    CAMERA_ONLINE_STATES,
    DISK_BAD_STATES,
    DISK_HEALTHY_STATES,
    PORT_UP_STATES,
    TRUNK_UP_STATES,
    Meaning,
)
from gateway.config.profile import Profile
from gateway.i18n import N_, Translator, translator
from gateway.model import Value
from gateway.present import humanize
from gateway.present.summary import State
from gateway.snapshot import DeviceStatus
from gateway.snapshot.build import natural

M = Meaning
ENGLISH = translator("en")

# Every text this module writes, in one place, in English; the pages show the titles
# and heads in the site's language (translator(locale).gettext).
TEXT = {
    "instance": "#",
    "name": N_("Name"),
    "yes": N_("yes"),
    "no": N_("no"),
}
# Table titles by what an instance is; others: the instance's name with an "s".
TABLE_TITLES = {
    "port": N_("Ports"),
    "disk": N_("Disks"),
    "channel": N_("Cameras"),
    "trunk": N_("Trunks"),
    "zone": N_("Zones"),
    "sensor": N_("Sensors"),
    "line": N_("Lines"),
    "volume": N_("Volumes"),
    "fan": N_("Fans"),
    "psu": N_("Power supplies"),
    "entity": N_("Components"),
    "cpu": N_("CPUs"),
    "pool": N_("Memory"),
}
# A table whose instances another table has too (a port's PoE beside its link) is
# titled by what it is about.
TABLE_TITLES_BY_NAME = {"poe": N_("PoE")}
# Column titles by meaning; a meaning shared by columns (in and out) adds the column's name.
COLUMN_TITLES = {
    M.PORT_STATE: N_("Link"),
    M.PORT_ADMIN_STATE: N_("Enabled"),
    M.PORT_ERRORS: N_("Errors"),
    M.PORT_TRAFFIC: N_("Traffic"),
    M.CAMERA_STATE: N_("Video"),
    M.DISK_STATUS: N_("State"),
    M.DISK_FREE: N_("Free"),
    M.DISK_CAPACITY: N_("Size"),
    M.TRUNK_STATE: N_("State"),
    M.ZONE_ALARM: N_("Alarm"),
    M.ZONE_FAULT: N_("Fault"),
    M.ZONE_TAMPER: N_("Tamper"),
    M.DETECTOR_BATTERY_LOW: N_("Detector battery low"),
    M.SENSOR_STATUS: N_("State"),
    M.SENSOR_TYPE: N_("Type"),
    M.SENSOR_VALUE: N_("Value"),
    M.SENSOR_PRECISION: N_("Precision"),
    M.DISK_MODEL: N_("Model"),
    M.FAN_STATE: N_("State"),
    M.FAN_PRESENT: N_("Present"),
    M.ENTITY_CLASS: N_("Class"),
    M.SENSOR_TEMPERATURE: N_("Temperature"),
    M.TEMPERATURE_LIMIT: N_("Limit"),
    M.TEMPERATURE_STATE: N_("State"),
}
# Titles of the shipped profiles' columns that have no meaning (states the device
# reports beside those the gateway judges), by the column's name; a column of a
# site's own profile that is in neither table shows its name.
COLUMN_NAMES = {
    "recording": N_("Recording"),
    "health": N_("Health"),
    "state": N_("State"),
    "status": N_("State"),
    "oper_status": N_("Operating state"),
    "error_status": N_("Error state"),
    "present": N_("Present"),
    "class": N_("Class"),
    "source": N_("Power source"),
    "admin_enable": N_("Enabled"),
    "detection": N_("Power delivery"),
}
# Column names that start with a direction (in_errors), and a title with one.
DIRECTION_TEXT = {"in": N_("{title} in"), "out": N_("{title} out")}
DIRECTIONS = frozenset(DIRECTION_TEXT)
FLAGS = frozenset({M.ZONE_ALARM, M.ZONE_FAULT, M.ZONE_TAMPER, M.DETECTOR_BATTERY_LOW})


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    sort: float | str  # what the column sorts by: the number, or the text
    state: State | None = None  # None: a value that is neither good nor bad


@dataclass(frozen=True, slots=True)
class Table:
    name: str  # the profile's table ("if", "disk")
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


def _good(states: frozenset[str]) -> Callable[[str], State | None]:
    return lambda value: State.OK if value in states else State.DEGRADED


def _disk(value: str) -> State | None:
    if value in DISK_BAD_STATES:
        return State.DEGRADED
    return State.OK if value in DISK_HEALTHY_STATES else None


# States by meaning: which values are in order. A port that is down is no fault by
# itself (an unused socket): neither good nor bad.
JUDGED: dict[Meaning, Callable[[str], State | None]] = {
    M.PORT_STATE: lambda v: State.OK if v in PORT_UP_STATES else None,
    M.PORT_ADMIN_STATE: lambda v: None,
    M.CAMERA_STATE: _good(CAMERA_ONLINE_STATES),
    M.TRUNK_STATE: _good(TRUNK_UP_STATES),
    M.DISK_STATUS: _disk,
    M.SENSOR_STATUS: _good(frozenset({"ok"})),
}
NUMBERS: dict[Meaning, Callable[[float, Translator], str]] = {
    M.DISK_FREE: lambda mb, _tr: humanize.size_mb(mb),
    M.DISK_CAPACITY: lambda mb, _tr: humanize.size_mb(mb),
    M.PORT_TRAFFIC: lambda per_second, _tr: humanize.bit_rate(per_second),
    M.PORT_ERRORS: lambda per_second, tr: humanize.rate(per_second, tr=tr),
}


def _cell(value: Value, meaning: Meaning | None, tr: Translator) -> Cell:
    if meaning in FLAGS:
        on = value is True or value == 1
        return Cell(TEXT["yes" if on else "no"], int(on), State.DEGRADED if on else None)
    if isinstance(value, str):
        judge = JUDGED.get(meaning) if meaning is not None else None
        return Cell(humanize.state_word(value), value, judge(value) if judge else None)
    if isinstance(value, bool | int | float) and humanize.is_number(float(value)):
        show = NUMBERS.get(meaning) if meaning is not None else None
        text = show(float(value), tr) if show else humanize.number(value)
        return Cell(text, float(value))
    return Cell(humanize.number(value), "")


def device_tables(
    device: DeviceStatus,
    profile: Profile | None,
    meanings: Mapping[str, Meaning],
    tr: Translator = ENGLISH,
) -> list[Table]:
    """The device's tables that have rows in the snapshot, in the profile's order; the
    titles of columns with a meaning in ``tr``'s language (a column without one shows
    its name)."""
    if profile is None:
        return []
    found: dict[str, Mapping[str, Value]] = {**device.meant, **device.tables}
    out = []
    for name, layout in profile.tables.items():
        label = f"{name}.{layout.label}" if layout.label else None
        shown: list[tuple[str, str]] = []  # (reading, title)
        titles_used: dict[Meaning, int] = {}
        for reading in found:
            if reading.startswith(name + ".") and reading != label:
                meaning = meanings.get(reading)
                if meaning is not None:
                    titles_used[meaning] = titles_used.get(meaning, 0) + 1
        for column in layout.columns:
            for reading in sorted(r for r in found if _of_column(r, name, column)):
                if reading == label:
                    continue
                meaning = meanings.get(reading)
                title = COLUMN_TITLES.get(meaning) if meaning is not None else None
                own = reading.removeprefix(name + ".").removesuffix(".rate")
                if title is None:
                    fallback = humanize.state_word(own).replace(".", " ").capitalize()
                    title = COLUMN_NAMES.get(own, fallback)
                elif meaning is not None and titles_used.get(meaning, 0) > 1:
                    title = shared_title(tr.gettext(title), humanize.state_word(own), tr)
                shown.append((reading, title))
        if not shown:
            continue
        instances: set[str] = set()
        for reading, _ in shown:
            instances.update(found[reading])
        labels = found.get(label, {}) if label else {}
        rows = []
        for instance in sorted(instances, key=natural):
            cells = [Cell(instance, _sort_number(instance))]
            if label:
                text = str(labels.get(instance, ""))
                cells.append(Cell(text, text))
            for reading, _ in shown:
                value = found[reading].get(instance)
                cells.append(_cell(value, meanings.get(reading), tr) if value is not None else
                             Cell("", ""))  # fmt: skip
            rows.append(tuple(cells))
        columns = (TEXT["instance"], *((TEXT["name"],) if label else ()), *(t for _, t in shown))
        title = TABLE_TITLES_BY_NAME.get(name) or TABLE_TITLES.get(
            layout.instance, humanize.state_word(layout.instance).capitalize() + "s"
        )
        out.append(Table(name, title, columns, tuple(rows)))
    return out


def shared_title(title: str, column: str, tr: Translator = ENGLISH) -> str:
    """The title (in ``tr``'s language) of one of several columns sharing a meaning: by
    its direction when its name starts with one (``Errors in``; 入错包 in Chinese), else
    with its name."""
    first = column.split()[0] if column else ""
    if first in DIRECTIONS:
        return tr.gettext(DIRECTION_TEXT[first]).format(title=title)
    return f"{title} ({column})"


def _of_column(reading: str, table: str, column: str) -> bool:
    """A reading of the column: itself, its rate, or one of its bits."""
    own = f"{table}.{column}"
    return reading == own or reading.startswith(own + ".")


def _sort_number(instance: str) -> float | str:
    return float(instance) if instance.isdigit() else instance
