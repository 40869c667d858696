"""The preventive-maintenance checklist, pre-filled from what the gateway measured.

Every item of the intrusion-alarm inspection sheet (domain rules, seed 003) appears,
plus the site's other health items (recording disks, backup power, fans and
temperatures). An item is OK or ATTENTION with what was measured, or NOT MEASURED
with the reason (nothing reads it; it is a check by hand on site).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.config.meanings import DISK_BAD_STATES, Meaning
from gateway.i18n import N_, Translator
from gateway.i18n.states import state_text
from gateway.proactive.forecasting import Finding
from gateway.proactive.watches import BATTERY_LOW
from gateway.views.report.environment import environment_section
from gateway.views.report.measure import (
    ENGLISH,
    Episode,
    Lookup,
    episodes,
    local_time,
    number,
    size_mb,
    span,
)
from gateway.views.report.model import Item, Mark, Section

M = Meaning
STEP = timedelta(minutes=5)
ON_SITE = N_("not read by the gateway: check on site")
DISK_HORIZON = timedelta(days=14)
PANEL_BATTERY_FLAT = 11.5  # V: a 12 V lead-acid battery, when the profile names no limit


@dataclass(frozen=True, slots=True)
class Scope:
    devices: Sequence[Lookup]
    now: datetime
    days: int  # how far back "recent" goes
    forecasts: dict[tuple[str, str, str], Finding]  # (device, point, instance)
    tr: Translator = ENGLISH  # the site's language

    @property
    def start(self) -> datetime:
        return self.now - timedelta(days=self.days)

    def of_kind(self, kind: str) -> list[Lookup]:
        return [d for d in self.devices if d.device.kind.value == kind]


def _not_measured(task: str, why: str) -> Item:
    return Item(task, Mark.NOT_MEASURED, why)


async def _bit_episodes(
    lookup: Lookup, meaning: Meaning, scope: Scope, instance: str = ""
) -> tuple[str | None, list[Episode]]:
    point = await lookup.first_of(meaning)
    if point is None:
        return None, []
    samples = await lookup.samples(point, instance, scope.start, scope.now, STEP)
    return point, episodes(samples, STEP)


async def mains_and_battery(lookup: Lookup, scope: Scope) -> Item:
    """The last mains loss of a panel and how its battery held."""
    _ = scope.tr.gettext
    task = _("The backup battery takes over when mains is cut")
    point, lost = await _bit_episodes(lookup, M.MAINS_LOST, scope)
    volts_point = await lookup.first_of(M.BATTERY_VOLTAGE)
    volts = await lookup.latest(volts_point) if volts_point else None
    now_text = (
        _("battery now {volts}").format(volts=number(volts, "V"))
        if volts is not None
        else _("battery voltage not measured")
    )
    if point is None:
        return _not_measured(task, _("mains state not measured; {now}").format(now=now_text))
    if not lost:
        return Item(
            task, Mark.OK,
            _("no mains loss in the last {days} days; {now}").format(days=scope.days, now=now_text),
        )  # fmt: skip
    last = lost[-1]
    when = _("last mains loss {time}, ").format(time=local_time(lookup.config, last.start)) + (
        _("lasted {span}").format(span=span(last.duration(scope.now), scope.tr))
        if last.end
        else _("STILL ON BATTERY")
    )
    held = []
    attention = last.end is None
    if volts_point is not None:
        during = await lookup.samples(volts_point, "", last.start, last.end or scope.now, STEP)
        if during:
            lowest = min(s.min for s in during)
            threshold = BATTERY_LOW.threshold(volts_point, lookup.profile) or PANEL_BATTERY_FLAT
            sagged = lowest < threshold
            attention = attention or sagged
            held.append(
                _("battery fell to {volts}").format(volts=number(lowest, "V"))
                + (
                    _(", below {volts}: it did NOT hold").format(volts=number(threshold, "V"))
                    if sagged
                    else _(" and held")
                )
            )
    low_point, low = await _bit_episodes(lookup, M.BATTERY_LOW, scope)
    if low_point is not None and any(
        e.start <= (last.end or scope.now) and (e.end or scope.now) >= last.start for e in low
    ):
        held.append(_("battery-low raised during it"))
        attention = True
    count = (
        _(" ({count} in {days} days)").format(count=len(lost), days=scope.days)
        if len(lost) > 1
        else ""
    )
    text = _("; ").join([when + count, *held, now_text])
    return Item(task, Mark.ATTENTION if attention else Mark.OK, text)


async def _zone_bits(
    lookup: Lookup, meaning: Meaning, scope: Scope
) -> tuple[int, list[str], list[str]]:
    """(zones reporting, zones set now, zones set during the window but not now)."""
    point = await lookup.first_of(meaning)
    if point is None:
        return 0, [], []
    zones = await lookup.instances(point)
    now_set, earlier = [], []
    for zone in zones:
        if (await lookup.latest(point, zone) or 0) >= 0.5:
            now_set.append(zone)
            continue
        if episodes(await lookup.samples(point, zone, scope.start, scope.now, STEP), STEP):
            earlier.append(zone)
    return len(zones), now_set, earlier


def _zones(names: Sequence[str]) -> str:
    return ", ".join(names)


async def zones_in_trouble(lookup: Lookup, scope: Scope) -> Item:
    _ = scope.tr.gettext
    task = _("Zones in fault or tamper")
    total, fault_now, fault_before = await _zone_bits(lookup, M.ZONE_FAULT, scope)
    _count, tamper_now, tamper_before = await _zone_bits(lookup, M.ZONE_TAMPER, scope)
    if total == 0:
        return _not_measured(task, _("zone states not measured"))
    parts = []
    if fault_now:
        parts.append(_("in fault now: zone {zones}").format(zones=_zones(fault_now)))
    if tamper_now:
        parts.append(_("tamper now: zone {zones}").format(zones=_zones(tamper_now)))
    if fault_before or tamper_before:
        earlier = _zones(sorted(set(fault_before + tamper_before), key=int_or_text))
        parts.append(
            _("fault or tamper earlier in {days} days: zone {zones}").format(
                days=scope.days, zones=earlier
            )
        )
    _point, box = await _bit_episodes(lookup, M.ENCLOSURE_TAMPER, scope)
    if box:
        opened = local_time(lookup.config, box[-1].start)
        parts.append(_("enclosure opened {time}").format(time=opened))
    if not parts:
        return Item(
            task, Mark.OK,
            _("{total} zones, none in fault or tamper in {days} days").format(
                total=total, days=scope.days),
        )  # fmt: skip
    attention = bool(fault_now or tamper_now)
    text = _("{total} zones; ").format(total=total) + _("; ").join(parts)
    return Item(task, Mark.ATTENTION if attention else Mark.OK, text)


def int_or_text(zone: str) -> tuple[int, str]:
    return (int(zone), "") if zone.isdigit() else (1 << 30, zone)


async def zone_tests(lookup: Lookup, scope: Scope) -> Item:
    _ = scope.tr.gettext
    task = _("Test every zone's alarm, strobe, siren and alarm dialer")
    total, alarm_now, alarm_before = await _zone_bits(lookup, M.ZONE_ALARM, scope)
    comm_point, comm = await _bit_episodes(lookup, M.REPORTING_FAILED, scope)
    if total == 0 and comm_point is None:
        return _not_measured(task, _("zone and reporting states not measured; test on site"))
    parts = [_("{total} zones reporting").format(total=total)]
    alarms = alarm_now + alarm_before
    parts.append(
        _("alarms in {days} days: zone {zones}").format(days=scope.days, zones=_zones(alarms))
        if alarms
        else _("no alarm in {days} days").format(days=scope.days)
    )
    if comm_point is not None:
        parts.append(
            _("reporting path failed {time}").format(time=local_time(lookup.config, comm[-1].start))
            if comm
            else _("reporting path: no communication failure in {days} days").format(
                days=scope.days
            )
        )
    parts.append(_("siren, strobe and dialer to be tested on site"))
    return Item(task, Mark.ATTENTION if comm else Mark.OK, _("; ").join(parts))


async def arming(lookup: Lookup, scope: Scope) -> Item:
    _ = scope.tr.gettext
    task = _("Test remote-control and keypad arming and disarming")
    point = await lookup.first_of(M.ARMED)
    if point is None:
        return _not_measured(task, _("arming state not measured; test on site"))
    samples = await lookup.samples(point, "", scope.start, scope.now, STEP)
    changes = 0
    previous: float | None = None
    for sample in samples:  # five-minute buckets: a mixed one holds at least one change
        if sample.min < 0.5 <= sample.max or (
            previous is not None and (previous >= 0.5) != (sample.last >= 0.5)
        ):
            changes += 1
        previous = sample.last
    state = _("armed") if (await lookup.latest(point) or 0) >= 0.5 else _("disarmed")
    return Item(
        task,
        Mark.OK,
        _(
            "{state} now; {changes} arming changes in {days} days; keypad and remote to be"
            " tested on site"
        ).format(state=state, changes=changes, days=scope.days),
    )


async def detector_batteries(lookups: Sequence[Lookup], scope: Scope) -> Item:
    _ = scope.tr.gettext
    task = _("Replace the batteries of wireless detectors")
    reporting, low_now, low_before = 0, [], []
    zone = _("{panel} zone {zone}")
    for lookup in lookups:
        total, now_set, earlier = await _zone_bits(lookup, M.DETECTOR_BATTERY_LOW, scope)
        reporting += total
        low_now += [zone.format(panel=lookup.label, zone=z) for z in now_set]
        low_before += [zone.format(panel=lookup.label, zone=z) for z in earlier]
    if reporting == 0:
        return _not_measured(task, _("detector batteries not measured"))
    if not (low_now or low_before):
        return Item(
            task, Mark.OK,
            _("no detector reports a low battery ({zones} zones)").format(zones=reporting),
        )  # fmt: skip
    parts = []
    if low_now:
        parts.append(_("low battery now: {zones}").format(zones=", ".join(low_now)))
    if low_before:
        parts.append(
            _("low earlier in {days} days: {zones}").format(
                days=scope.days, zones=", ".join(low_before)
            )
        )
    return Item(task, Mark.ATTENTION, _("; ").join(parts))


async def panel_section(lookup: Lookup | None, scope: Scope) -> Section:
    _ = scope.tr.gettext
    title = (
        _("Intrusion alarm panel: {panel} ({device})").format(
            panel=lookup.label, device=lookup.device.id
        )
        if lookup
        else _("Intrusion alarm panel")
    )
    if lookup is None:
        none = _("no alarm panel in this report")
        return Section(
            title,
            tuple(
                _not_measured(_(t), none)
                for t in (
                    N_("Clean dust off the panel"),
                    N_("Test every zone's alarm, strobe, siren and alarm dialer"),
                    N_("Check that the backup battery takes over when mains is cut"),
                    N_("Zones in fault or tamper"),
                    N_("Test remote-control and keypad arming and disarming"),
                    N_("Check that the manual and the zone map are legible"),
                    N_("Ask the operators whether they use it correctly"),
                )
            ),
        )
    map_point = lookup.named(M.ZONE_MAP_VERSION)
    map_version = await lookup.latest(map_point) if map_point else None
    legible = _(ON_SITE) + (
        _(" (the panel reports zone map version {version})").format(version=number(map_version))
        if map_version is not None
        else ""
    )
    return Section(
        title,
        (
            _not_measured(_("Clean dust off the panel"), _(ON_SITE)),
            await zone_tests(lookup, scope),
            await mains_and_battery(lookup, scope),
            await zones_in_trouble(lookup, scope),
            await arming(lookup, scope),
            _not_measured(_("Check that the manual and the zone map are legible"), legible),
            _not_measured(_("Ask the operators whether they use it correctly"), _("ask on site")),
        ),
    )


def beams_section(tr: Translator) -> Section:
    _ = tr.gettext
    why = _("no beam signal is read by the gateway: check on site")
    return Section(
        _("Active infrared beams"),
        (
            _not_measured(_("Clean the beams"), why),
            _not_measured(_("The receiver's signal voltage reaches its nominal value"), why),
            _not_measured(_("The relay trips when the beam is cut"), why),
            _not_measured(_("No vegetation that could cause false alarms"), why),
        ),
    )


async def detectors_section(panels: Sequence[Lookup], scope: Scope) -> Section:
    _ = scope.tr.gettext
    return Section(
        _("Passive infrared (PIR) detectors"),
        (
            _not_measured(_("Walk-test the coverage"), _(ON_SITE)),
            _not_measured(_("Clean the detectors"), _(ON_SITE)),
            await detector_batteries(panels, scope),
        ),
    )


async def disk_items(lookup: Lookup, scope: Scope) -> list[Item]:
    free_point = await lookup.first_of(M.DISK_FREE)
    status_point = lookup.named(M.DISK_STATUS)
    disks = sorted(
        set(await lookup.instances(free_point) if free_point else [])
        | set(lookup.texts(status_point)),
        key=int_or_text,
    )
    items = []
    _ = scope.tr.gettext
    for disk in disks:
        label = lookup.instance_label(free_point or status_point, disk)
        task = _("{device}: disk {disk}").format(device=lookup.label, disk=label)
        status = await lookup.state(status_point, disk)
        capacity = await lookup.latest(lookup.named(M.DISK_CAPACITY), disk)
        free = await lookup.latest(free_point, disk)
        parts = [
            _("status {status}").format(
                status=state_text(status, scope.tr) if status else _("not measured")
            ),
            size_mb(capacity, scope.tr),
        ]
        attention = status is not None and status in DISK_BAD_STATES
        if free is not None and capacity:
            parts.append(_("{share} used").format(share=f"{100 * (1 - free / capacity):.0f} %"))
        finding = scope.forecasts.get((lookup.device.id, free_point or "", disk))
        if finding is not None and finding.outlook.eta is not None and finding.outlook.trusted:
            days = finding.outlook.days_left(scope.now) or 0
            parts.append(
                _("full in {days} days ({date})").format(
                    days=f"{days:.1f}", date=local_time(lookup.config, finding.outlook.eta)[:10]
                )
            )
            attention = attention or finding.outlook.eta <= scope.now + DISK_HORIZON
        elif free is not None:
            parts.append(_("not filling up"))
        items.append(Item(task, Mark.ATTENTION if attention else Mark.OK, _(", ").join(parts)))
    return items


async def disks_section(nvrs: Sequence[Lookup], scope: Scope) -> Section:
    items: list[Item] = []
    for lookup in nvrs:
        items += await disk_items(lookup, scope)
    _ = scope.tr.gettext
    if not items:
        items = [
            _not_measured(_("Disks' health and days until full"), _("no recorder disks measured"))
        ]
    return Section(_("Recording disks: health and days until full"), tuple(items))


async def ups_item(lookup: Lookup, scope: Scope) -> Item:
    _ = scope.tr.gettext
    task = _("{device}: the battery takes over on a mains loss").format(device=lookup.label)
    point = await lookup.first_of(M.TIME_ON_BATTERY)
    status = await lookup.state(lookup.named(M.BATTERY_STATUS))
    charge_point = lookup.named(M.BATTERY_CHARGE)
    charge = await lookup.latest(charge_point)
    now_text = _("battery {status}, charge {charge}").format(
        status=state_text(status, scope.tr) if status else _("status not measured"),
        charge=number(charge, "%"),
    )
    if point is None:
        return _not_measured(task, _("mains state not measured; {now}").format(now=now_text))
    samples = await lookup.samples(point, "", scope.start, scope.now, STEP)
    on_battery = episodes(samples, STEP)  # seconds on battery > 0
    bad = status in ("low", "depleted")
    if not on_battery:
        return Item(
            task,
            Mark.ATTENTION if bad else Mark.OK,
            _("no time on battery in {days} days; {now}").format(days=scope.days, now=now_text),
        )
    last = on_battery[-1]
    lowest = (
        await lookup.samples(charge_point, "", last.start, last.end or scope.now, STEP)
        if charge_point
        else []
    )
    held = (
        _(", charge fell to {charge}").format(charge=number(min(s.min for s in lowest), "%"))
        if lowest
        else ""
    )
    text = _("last on battery {time} for {span}{held}; {now}").format(
        time=local_time(lookup.config, last.start),
        span=span(last.duration(scope.now), scope.tr), held=held, now=now_text,
    )  # fmt: skip
    return Item(task, Mark.ATTENTION if bad or last.end is None else Mark.OK, text)


async def power_section(upses: Sequence[Lookup], scope: Scope) -> Section:
    items = [await ups_item(lookup, scope) for lookup in upses]
    _ = scope.tr.gettext
    if not items:
        items = [
            _not_measured(_("UPS battery takes over on a mains loss"), _("no UPS in this report"))
        ]
    return Section(_("Backup power (UPS)"), tuple(items))


async def checklist(scope: Scope) -> tuple[Section, ...]:
    panels = scope.of_kind("alarm_panel")
    sections = [await panel_section(p, scope) for p in panels] or [await panel_section(None, scope)]
    sections += [beams_section(scope.tr), await detectors_section(panels, scope)]
    sections.append(await disks_section(scope.of_kind("nvr"), scope))
    sections.append(await power_section(scope.of_kind("ups"), scope))
    sections.append(await environment_section(scope.devices, scope.tr))
    return tuple(sections)
