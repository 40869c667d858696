"""Which of a device's series are worth a chart, and the charts themselves.

Only series a technician reads as a curve get one (traffic, errors, temperatures,
battery, disk free, the gateway's round trip), found by what the profile's points
mean; their values in a unit people read (bit/s from bytes per second, GB or TB from
MB). A table point gets one chart with a line per instance, the busiest
``MAX_LINES`` when there are more; labels are the instances' names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from gateway.config.meanings import SENSOR_CELSIUS, Meaning
from gateway.i18n import N_, Translator, translator
from gateway.metrics.store.types import Sample
from gateway.present.humanize import unit_text
from gateway.present.tables import shared_title
from gateway.proactive.ports import History
from gateway.snapshot import DeviceStatus
from gateway.views import svg

M = Meaning
MAX_LINES = 8  # lines in one chart
MAX_INSTANCES = 64  # instances read to find the busiest
OWN_POINTS = {"rtt": (N_("Round trip"), "ms")}  # the gateway's own readings worth a chart

# Every text this module writes, in one place, in English (the page's language through
# the catalog).
TEXT = {
    "busiest": N_("busiest {shown} of {total}"),
    "temperatures": N_("Temperatures"),
    "titled": N_("{title}, {unit}"),
}
# What a chart of a meaning is called and the unit its values are stored in.
CHARTED: dict[Meaning, tuple[str, str]] = {
    M.PORT_TRAFFIC: (N_("Traffic"), "B/s"),
    M.PORT_ERRORS: (N_("Errors"), "/s"),
    M.TEMPERATURE: (N_("Temperature"), "°C"),
    M.BATTERY_TEMPERATURE: (N_("Battery temperature"), "°C"),
    M.BATTERY_CHARGE: (N_("Battery charge"), "%"),
    M.BATTERY_RUNTIME: (N_("Battery runtime"), "min"),
    M.BATTERY_VOLTAGE: (N_("Battery voltage"), "V"),
    M.DISK_FREE: (N_("Disk free"), "MB"),
}
# Units shown instead of the stored one: (factor, unit) steps, smallest first.
SCALES: dict[str, tuple[tuple[float, str], ...]] = {
    "B/s": ((8, "bit/s"), (8e-3, "kbit/s"), (8e-6, "Mbit/s"), (8e-9, "Gbit/s")),
    "MB": ((1, "MB"), (1e-3, "GB"), (1e-6, "TB")),
}


@dataclass(frozen=True, slots=True)
class Wanted:
    point: str  # the reading
    title: str  # as shown above the chart
    unit: str  # as stored
    # Only these instances, each times its factor (a sensor table's temperatures, whose
    # raw values are times 10^precision); None: every instance as stored.
    only: Mapping[str, float] | None = None


@dataclass(frozen=True, slots=True)
class Chart:
    title: str  # above the chart, with its unit
    legend: tuple[str, ...]  # the lines' labels, in drawing order (empty for one line)
    note: str  # "busiest 8 of 24", or ""
    svg: str


def worth_charting(
    points: Sequence[str],
    meanings: Mapping[str, Meaning],
    device: DeviceStatus | None = None,
    tr: Translator | None = None,
) -> list[Wanted]:
    """The stored points of a device worth a chart, in the order of CHARTED, then the
    temperature sensors of a sensor table (ENTITY-SENSOR-MIB's shape, by the snapshot's
    sensor types and precisions), then the gateway's own; a meaning shared by points
    (in, out) names each. Titles in ``tr``'s language (English without one)."""
    _ = (tr or translator()).gettext
    by_meaning: dict[Meaning, list[str]] = {}
    for point in points:
        meaning = meanings.get(point)
        if meaning in CHARTED:
            by_meaning.setdefault(meaning, []).append(point)
    wanted = []
    for meaning, (title, unit) in CHARTED.items():
        found = by_meaning.get(meaning, [])
        for point in found:
            own = point.rsplit(".", 2 if point.endswith(".rate") else 1)[1].replace("_", " ")
            wanted.append(
                Wanted(
                    point,
                    shared_title(_(title), own, tr or translator()) if len(found) > 1 else _(title),
                    unit,
                )
            )
    if device is not None:
        wanted += _temperature_sensors(points, meanings, device, _(TEXT["temperatures"]))
    wanted += [Wanted(p, _(OWN_POINTS[p][0]), OWN_POINTS[p][1]) for p in points if p in OWN_POINTS]
    return wanted


def _temperature_sensors(
    points: Sequence[str], meanings: Mapping[str, Meaning], device: DeviceStatus, title: str
) -> list[Wanted]:
    by_meaning = {meaning: point for point, meaning in meanings.items()}
    value = by_meaning.get(M.SENSOR_VALUE)
    types = device.meant.get(by_meaning.get(M.SENSOR_TYPE, ""), {})
    precisions = device.meant.get(by_meaning.get(M.SENSOR_PRECISION, ""), {})
    if value is None or value not in points:
        return []
    only = {}
    for instance, kind in types.items():
        if kind == SENSOR_CELSIUS:
            digits = precisions.get(instance, 0)
            places = int(digits) if isinstance(digits, int | float) else 0
            only[instance] = 10.0**-places
    return [Wanted(value, title, "°C", only)] if only else []


def _scale(unit: str, peak: float) -> tuple[float, str]:
    steps = SCALES.get(unit)
    if steps is None:
        return 1.0, unit
    chosen = steps[0]
    for factor, name in steps:
        if abs(peak) * factor >= 1:
            chosen = (factor, name)
    return chosen


def _scaled(samples: Sequence[Sample], factor: float) -> tuple[Sample, ...]:
    if factor == 1.0:
        return tuple(samples)
    return tuple(
        replace(s, min=s.min * factor, max=s.max * factor, avg=s.avg * factor,
                last=s.last * factor)
        for s in samples
    )  # fmt: skip


async def draw(
    history: History,
    device: str,
    wanted: Wanted,
    labels: Mapping[str, str],
    start: datetime,
    end: datetime,
    step: timedelta,
    tr: Translator | None = None,
) -> Chart:
    """One chart of ``wanted`` between ``start`` and ``end`` (times shown in their zone);
    ``labels``: instance -> its name."""
    instances = (await history.instances(device, wanted.point))[:MAX_INSTANCES]
    if wanted.only is not None:
        instances = [i for i in instances if i in wanted.only]
    series = []
    for instance in instances or [""]:
        got = await history.series(device, wanted.point, instance or None, start, end, step)
        factor = wanted.only.get(instance, 1.0) if wanted.only is not None else 1.0
        series.append((instance, _scaled(got.samples, factor)))
    if len(series) > MAX_LINES:  # the busiest: the highest peaks
        series.sort(key=lambda s: max((x.max for x in s[1]), default=0.0), reverse=True)
        series = sorted(series[:MAX_LINES], key=lambda s: instances.index(s[0]))
    peak = max((x.max for _, samples in series for x in samples), default=0.0)
    factor, stored = _scale(wanted.unit, peak)
    unit = unit_text(stored, tr)  # in the site's words: 分钟, /秒
    lines = [
        svg.Line(labels.get(instance, instance), _scaled(samples, factor))
        for instance, samples in series
    ]
    _ = (tr or translator()).gettext
    title = _(TEXT["titled"]).format(title=wanted.title, unit=unit) if unit else wanted.title
    note = (
        _(TEXT["busiest"]).format(shown=MAX_LINES, total=len(instances))
        if len(instances) > MAX_LINES
        else ""
    )
    legend = tuple(line.label for line in lines) if len(lines) > 1 else ()
    return Chart(title, legend, note, svg.chart(title, unit, lines, start, end))
