"""The forecast job: fit each watched series and open or resolve proactive tickets.

A ticket opens when a trusted fit reaches the threshold within the watch's horizon.
It stays open while the forecast still says so within one and a half horizons
(hysteresis: a forecast wobbling around the horizon does not flap), and while the
series has gone past the threshold (what was forecast happened; the rules' own
tickets say so too). It resolves when the trend turned away, the fit is no longer
trusted (a replaced disk, a charged battery), or the reach is far off. A series with
no samples in the window changes nothing: missing data is not good news.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.config.load import LoadedConfig
from gateway.config.meanings import SENSOR_CELSIUS, Meaning, points_meaning
from gateway.config.profile import Profile
from gateway.config.site import Device
from gateway.i18n import translator
from gateway.metrics.store.types import Series
from gateway.model import Condition, Quality, Reading
from gateway.proactive import calendar
from gateway.proactive.forecast import Outlook, outlook
from gateway.proactive.ports import History, TicketSink
from gateway.proactive.watches import TEMPERATURE, WATCHES, Watch

log = logging.getLogger("lvgw.proactive")

KEEP_FACTOR = 1.5  # an open forecast ticket stays while the reach is within 1.5 horizons
SENSOR_HOT = 60.0  # °C: a switch sensor's limit when its profile names none


@dataclass(frozen=True, slots=True)
class Finding:
    """One watched series' forecast, for tickets, the digest and the report."""

    device: str
    watch: Watch
    point: str
    instance: str
    threshold: float
    outlook: Outlook
    last: float | None  # the newest sample
    last_ts: datetime | None

    @property
    def past(self) -> bool:
        if self.last is None:
            return False
        if self.watch.direction == "below":
            return self.last <= self.threshold
        return self.last >= self.threshold


# A device's table states and labels from the status snapshot (its "tables").
Tables = Callable[[str], Mapping[str, Mapping[str, str]]]


def _no_tables(device: str) -> Mapping[str, Mapping[str, str]]:
    return {}


@dataclass(frozen=True, slots=True)
class _Target:
    """A series a watch fits, before its history is read."""

    device: str
    watch: Watch
    point: str
    instance: str
    threshold: float
    scale: float = 1.0  # a sensor's raw value to units


async def findings(
    config: LoadedConfig,
    history: History,
    now: datetime,
    watches: tuple[Watch, ...] = WATCHES,
    tables: Tables = _no_tables,
) -> list[Finding]:
    """Every watched series of every device, fitted at ``now``. With ``tables``, the
    temperature watch also covers sensor tables (ENTITY-SENSOR-MIB) whose type is
    celsius, their raw values scaled by their precision.

    The series are found first, then read per window: the watches that share a window
    read their series in one `History.map_series`, so the store reads the recent
    samples they share once per run, not once per series."""
    targets: list[_Target] = []
    for device in config.devices:
        available = set(await history.points(device.id))
        profile = config.profiles.get(device.profile)
        for watch in watches:
            for point in watch.points(profile):
                if point not in available:
                    continue
                threshold = watch.threshold(point, profile)
                if threshold is None:
                    continue
                for instance in await history.instances(device.id, point):
                    targets.append(_Target(device.id, watch, point, instance, threshold))
            sensor_value = first(points_meaning(profile, Meaning.SENSOR_VALUE))
            if watch is TEMPERATURE and sensor_value in available:
                targets += await _sensor_temperatures(history, device, tables(device.id), profile)
    return await _fitted(history, targets, now)


async def _fitted(history: History, targets: list[_Target], now: datetime) -> list[Finding]:
    """The finding of each target, in their order."""
    by_range: dict[tuple[timedelta, timedelta], list[int]] = {}
    for i, target in enumerate(targets):
        by_range.setdefault((target.watch.window, target.watch.step), []).append(i)
    found: list[Finding | None] = [None] * len(targets)
    for (window, step), members in by_range.items():
        keys = [(targets[i].device, targets[i].point, targets[i].instance) for i in members]

        def use(i: int, series: Series, members: list[int] = members) -> Finding:
            return _finding(targets[members[i]], series, now)

        fitted = await history.map_series(keys, now - window, now, step, use)
        for i, finding in zip(members, fitted, strict=True):
            found[i] = finding
    return [f for f in found if f is not None]


async def _sensor_temperatures(
    history: History,
    device: Device,
    tables: Mapping[str, Mapping[str, str]],
    profile: Profile | None,
) -> list[_Target]:
    value = first(points_meaning(profile, Meaning.SENSOR_VALUE))
    kinds = first(points_meaning(profile, Meaning.SENSOR_TYPE))
    precision_point = first(points_meaning(profile, Meaning.SENSOR_PRECISION))
    if value is None or kinds is None:
        return []
    # The profile's limit on the sensor value is in units (precision 0 in its rule).
    threshold = TEMPERATURE.threshold(value, profile) or SENSOR_HOT
    found = []
    for instance, kind in tables.get(kinds, {}).items():
        if kind != SENSOR_CELSIUS:
            continue
        precision = (
            await history.latest(device.id, precision_point, instance) if precision_point else None
        )
        scale = 10.0 ** -int(precision.last) if precision is not None else 1.0
        found.append(_Target(device.id, TEMPERATURE, value, instance, threshold, scale))
    return found


def first(names: tuple[str, ...]) -> str | None:
    return names[0] if names else None


def _finding(target: _Target, series: Series, now: datetime) -> Finding:
    watch, scale = target.watch, target.scale
    samples = [(s.ts, s.avg * scale) for s in series]
    newest = series.samples[-1] if series.samples else None
    return Finding(
        target.device,
        watch,
        target.point,
        target.instance,
        target.threshold,
        outlook(samples, target.threshold, watch.direction, now, watch.trust),
        newest.last * scale if newest else None,
        newest.ts if newest else None,
    )


class ForecastJob:
    def __init__(
        self,
        config: LoadedConfig,
        history: History,
        tickets: TicketSink,
        watches: tuple[Watch, ...] = WATCHES,
        tables: Tables = _no_tables,
    ) -> None:
        self.config = config
        self.history = history
        self.tickets = tickets
        self.watches = watches
        self.tables = tables
        self.devices = {d.id: d for d in config.devices}

    async def run(self, now: datetime, slot: datetime) -> None:
        found = await findings(self.config, self.history, now, self.watches, self.tables)
        groups: dict[tuple[str, str, str], list[Finding]] = {}
        for finding in found:
            groups.setdefault((finding.device, finding.watch.code, finding.instance), []).append(
                finding
            )
        open_keys = {key for key in self.tickets.open_tickets if key[1].startswith("forecast.")}
        conditions = []
        for key, group in groups.items():
            finding = min(group, key=_urgency)
            condition = self._decide(finding, key in open_keys, now)
            if condition is not None:
                conditions.append(condition)
        if conditions:
            await self.tickets.apply(conditions)

    def _decide(self, finding: Finding, is_open: bool, now: datetime) -> Condition | None:
        watch, seen = finding.watch, finding.outlook
        if not is_open:
            if seen.within(now, watch.horizon):
                return self._condition(finding, True, now)
            return None
        if finding.last is None:
            return None  # no data in the window: keep what we have
        keep = finding.past or seen.within(now, watch.horizon * KEEP_FACTOR)
        return None if keep else self._condition(finding, False, now)

    def _condition(self, finding: Finding, active: bool, now: datetime) -> Condition:
        watch, device = finding.watch, self.devices[finding.device]
        eta = finding.outlook.eta
        title = ""
        evidence: tuple[Reading, ...] = ()
        if active and eta is not None:
            _ = translator(self.config.site_file.site.locale).gettext
            sensor = _(" (sensor {sensor})").format(sensor=finding.instance)
            title = _(watch.title).format(
                device=device.name or device.id,
                instance=finding.instance,
                where=sensor if finding.instance else "",
                threshold=finding.threshold,
                date=calendar.local_day(self.config.site_file.site, eta).isoformat(),
            )
            trend = finding.outlook.trend
            evidence = (
                Reading(
                    device.id, finding.point, finding.last, finding.last_ts or now,
                    finding.instance, watch.unit, Quality.GOOD,
                ),
                Reading(
                    device.id, "forecast.days_left", round(finding.outlook.days_left(now) or 0, 1),
                    now, finding.instance, "d",
                ),
                Reading(
                    device.id, "forecast.per_day", round(trend.per_day, 6) if trend else None,
                    now, finding.instance, f"{watch.unit}/d",
                ),
            )  # fmt: skip
            log.info(
                "forecast device=%s %s instance=%r reaches %g %s by %s",
                device.id, finding.point, finding.instance, finding.threshold, watch.unit,
                eta.isoformat(),
            )  # fmt: skip
        return Condition(
            device.id, watch.code, watch.level, title, active, now, finding.instance, evidence
        )


def _urgency(finding: Finding) -> tuple[bool, float]:
    """Sort key: past the threshold first, then the earliest reach."""
    eta = finding.outlook.eta
    return (not finding.past, eta.timestamp() if eta is not None else float("inf"))
