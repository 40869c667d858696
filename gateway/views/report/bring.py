"""What the technician should bring: parts the measurements and open tickets call for."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.config.meanings import DISK_BAD_STATES, SENSOR_TRUTHVALUE, Meaning
from gateway.i18n import N_, Translator
from gateway.i18n.states import state_text
from gateway.proactive.watches import BATTERY_LOW
from gateway.snapshot import TicketStatus
from gateway.views.report.checklist import DISK_HORIZON, Scope
from gateway.views.report.environment import fan_label, fans, sensors
from gateway.views.report.measure import Lookup, local_time, number, size_mb

M = Meaning


async def _disks(lookup: Lookup, scope: Scope, tickets: Sequence[TicketStatus]) -> list[str]:
    out = []
    _ = scope.tr.gettext
    free_point = await lookup.first_of(M.DISK_FREE) or lookup.named(M.DISK_FREE)
    status_point = lookup.named(M.DISK_STATUS)
    failed = {t.instance for t in tickets if t.fault == "disk.failed"}
    disks = set(lookup.texts(status_point)) | {d for d in failed if d}
    disks |= set(await lookup.instances(free_point) if free_point else [])
    for disk in sorted(disks, key=lambda d: (len(d), d)):
        status = await lookup.state(status_point, disk)
        label = lookup.instance_label(free_point or status_point, disk)
        capacity = size_mb(await lookup.latest(lookup.named(M.DISK_CAPACITY), disk), scope.tr)
        model = lookup.text(lookup.named(M.DISK_MODEL), disk)
        model_text = (
            _("model {model}").format(model=model)
            if model
            else _("model not reported by the NVR: read it on site")
        )
        if status in DISK_BAD_STATES or disk in failed:
            text = _("Replacement disk for {device} disk {disk} ({status}): {capacity}, {model}")
            out.append(
                text.format(
                    device=lookup.label, disk=label,
                    status=state_text(status, scope.tr) if status else _("failed"),
                    capacity=capacity, model=model_text,
                )
            )  # fmt: skip
            continue
        finding = scope.forecasts.get((lookup.device.id, free_point or "", disk))
        eta = finding.outlook.eta if finding and finding.outlook.trusted else None
        if eta is not None and eta <= scope.now + DISK_HORIZON:
            text = _("A spare disk of at least {capacity} for {device} disk {disk}: full by {date}")
            out.append(
                text.format(
                    capacity=capacity, device=lookup.label, disk=label,
                    date=local_time(lookup.config, eta)[:10],
                )
            )  # fmt: skip
    return out


async def _battery(lookup: Lookup, scope: Scope, tickets: Sequence[TicketStatus]) -> list[str]:
    _ = scope.tr.gettext
    point = await lookup.first_of(M.BATTERY_VOLTAGE)
    reasons = []
    codes = {t.fault for t in tickets}
    if codes & {"panel.battery_low", "ups.battery_low", "ups.battery_depleted"}:
        reasons.append(_("battery-low ticket open"))
    low_flag = await lookup.first_of(M.BATTERY_LOW)
    if low_flag is not None and (await lookup.latest(low_flag) or 0) >= 0.5:
        reasons.append(_("battery-low reported now"))
    status = await lookup.state(lookup.named(M.BATTERY_STATUS))
    if status in ("low", "depleted"):
        reasons.append(_("battery {status}").format(status=state_text(status, scope.tr)))
    volts = await lookup.latest(point) if point else None
    if point is not None:
        finding = scope.forecasts.get((lookup.device.id, point, ""))
        threshold = BATTERY_LOW.threshold(point, lookup.profile)
        if finding is not None and finding.outlook.within(scope.now, BATTERY_LOW.horizon):
            eta = finding.outlook.eta
            reasons.append(
                _("forecast below {volts} by {date}").format(
                    volts=number(finding.threshold, "V"),
                    date=local_time(lookup.config, eta)[:10] if eta else "?",
                )
            )
        elif threshold is not None and volts is not None and volts < threshold:
            reasons.append(_("below {volts}").format(volts=number(threshold, "V")))
    if not reasons:
        return []
    what = (
        _("Battery set for UPS {device}")
        if lookup.device.kind.value == "ups"
        else _("Backup battery for {device}")
    )
    now = _("now {volts}; ").format(volts=number(volts, "V")) if volts is not None else ""
    return [what.format(device=lookup.label) + f" ({now}{'; '.join(reasons)})"]


async def _detectors(panels: Sequence[Lookup], tr: Translator) -> list[str]:
    _ = tr.gettext
    zones = []
    for lookup in panels:
        point = await lookup.first_of(M.DETECTOR_BATTERY_LOW)
        if point is None:
            continue
        for zone in await lookup.instances(point):
            if (await lookup.latest(point, zone) or 0) >= 0.5:
                zones.append(_("{panel} zone {zone}").format(panel=lookup.label, zone=zone))
    if not zones:
        return []
    text = tr.ngettext(
        "{count} wireless detector battery (the type fitted): {zones}",
        "{count} wireless detector batteries (the type fitted): {zones}",
        len(zones),
    )
    return [text.format(count=len(zones), zones=", ".join(zones))]


def _ticket_label(lookup: Lookup, ticket: TicketStatus, tr: Translator) -> str:
    """The name of a ticket's instance in the table its rule judges (a power supply's,
    a fan's, as the checklist names it), else in the ENTITY-SENSOR-MIB sensor table."""
    rules = lookup.profile.rules if lookup.profile else []
    table = next((getattr(r, "table", None) for r in rules if r.code == ticket.fault), None)
    column = f"{table}." if table else lookup.named(M.SENSOR_VALUE)
    instance = ticket.instance or ""
    fan_column = lookup.beside(column, M.FAN_STATE) if column else None
    if fan_column is not None and ticket.fault == "fan.failed":
        return fan_label(lookup, fan_column, instance, tr)
    return lookup.instance_label(column, instance)


async def _switch_parts(
    lookup: Lookup, tickets: Sequence[TicketStatus], tr: Translator
) -> list[str]:
    out = []
    for code, part in (
        ("psu.failed", N_("Power supply unit for {device} ({name})")),
        ("fan.failed", N_("Fan unit for {device} ({name})")),
    ):
        broken = {_ticket_label(lookup, t, tr) for t in tickets if t.fault == code and t.instance}
        if code == "psu.failed":
            for name, status, value in await sensors(lookup, SENSOR_TRUTHVALUE):
                if status != "ok" or value == 2:
                    broken.add(name)
        else:
            broken.update(fan.name for fan in await fans(lookup, tr) if fan.failed)
        out += [tr.gettext(part).format(device=lookup.label, name=n) for n in sorted(broken)]
    return out


async def bring_along(
    lookups: Sequence[Lookup], tickets: Sequence[TicketStatus], scope: Scope
) -> tuple[str, ...]:
    items: list[str] = []
    for lookup in lookups:
        own = [t for t in tickets if t.device == lookup.device.id]
        kind = lookup.device.kind.value
        if kind == "nvr":
            items += await _disks(lookup, scope, own)
        if kind in ("alarm_panel", "ups"):
            items += await _battery(lookup, scope, own)
        if kind == "switch":
            items += await _switch_parts(lookup, own, scope.tr)
    panels = [d for d in lookups if d.device.kind.value == "alarm_panel"]
    items += await _detectors(panels, scope.tr)
    return tuple(items) or (
        scope.tr.gettext("Nothing specific: the measurements call for no parts."),
    )
