"""Collecting the pre-visit report: site and contract, tickets, device health and
trends, the pre-filled checklist and what to bring along."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from gateway.config.load import LoadedConfig
from gateway.config.meanings import VOCABULARY, Meaning, meanings_of
from gateway.config.rule_checks import TRAP_PREFIX
from gateway.correlate.topology import GATEWAY
from gateway.i18n import N_, Translator, translator
from gateway.present.humanize import unit_text
from gateway.present.summary import STATE_WORDS, display_name, kind_word, summarize
from gateway.present.tables import shared_title
from gateway.proactive import calendar
from gateway.proactive.forecast import fit
from gateway.proactive.forecasting import Finding, Tables, findings
from gateway.proactive.ports import History
from gateway.proactive.watches import WATCHES
from gateway.snapshot import ReadingValue, StatusSnapshot, TicketStatus
from gateway.tickets.history import TicketHistory
from gateway.views.charts import CHARTED, OWN_POINTS
from gateway.views.report.bring import bring_along
from gateway.views.report.checklist import Scope, checklist
from gateway.views.report.measure import (
    Lookup,
    bitfield_of,
    local_time,
    number,
    point_definition,
    point_unit,
    span,
)
from gateway.views.report.model import DeviceHealth, Report, TicketLine, Trend
from gateway.views.status import agent_state, deadlines

TREND_STEP = timedelta(hours=1)
# The site file's codes as the report names them (seed 003's customer attributes).
CONTRACT_NAMES = {"annual": N_("annual"), "per_visit": N_("per_visit"), "warranty": N_("warranty")}
ZONE_NAMES = {"urban": N_("urban"), "suburban": N_("suburban")}
# Scalars that say nothing about health over time (counts, clocks, versions).
NOT_TRENDED = frozenset(
    {Meaning.UPTIME, Meaning.COUNT, Meaning.ZONE_MAP_VERSION, Meaning.CLOCK, Meaning.DEVICE_NAME}
)
# Table columns worth a trend line per instance: those a forecast watches.
TRENDED_COLUMNS = frozenset(m for w in WATCHES for m in w.meanings if VOCABULARY[m].table)
# What the device is and how long it has run: left out of its latest readings.
NOT_LISTED = frozenset(
    {Meaning.DESCRIPTION, Meaning.PRODUCT_ID, Meaning.UPTIME, Meaning.CLOCK, Meaning.DEVICE_NAME}
)


# How long a device has run: the report leaves it out of its summaries as of its readings
# (a report is read later than it is made; its trends and availability say more).
NOT_SUMMARISED = frozenset({"uptime"})


@dataclass(frozen=True, slots=True)
class Sources:
    config: LoadedConfig
    status: StatusSnapshot | None  # the agent's status snapshot
    history: History  # the embedded metric store
    tickets: TicketHistory | None  # resolved tickets
    now: datetime
    device: str | None = None  # only this device
    recent_days: int = 30
    trend_days: int = 7

    @property
    def tr(self) -> Translator:
        """The site's language."""
        return translator(self.config.site_file.site.locale)


def _site_rows(src: Sources) -> tuple[tuple[str, str], ...]:
    _ = src.tr.gettext
    site = src.config.site_file.site
    contract = site.contract
    today = calendar.local_day(site, src.now)
    ends = _("no end date")
    if contract.ends is not None:
        left = (contract.ends - today).days
        ends = (
            _("{date} ({days} days left)").format(date=contract.ends.isoformat(), days=left)
            if left >= 0
            else _("{date} (ENDED {days} days ago)").format(
                date=contract.ends.isoformat(), days=-left
            )
        )
    following = calendar.next_inspection_due(site, today)
    latest = calendar.latest_inspection_due(site, today)
    inspections = _("none in the contract")
    if latest is not None:
        inspections = _("period from {date}").format(date=latest.isoformat()) + (
            _("; next from {date}").format(date=following.isoformat()) if following else ""
        )
    customer = site.customer
    return (
        (_("Site"), f"{site.name} ({site.id}), {_(ZONE_NAMES[site.zone.value])}"),
        (_("Customer"), customer.name),
        (_("Contact"), ", ".join(v for v in (customer.contact, customer.phone) if v) or "-"),
        (_("Address"), customer.address or "-"),
        (
            _("Contract"),
            _("{contract}, ends {ends}").format(
                contract=_(CONTRACT_NAMES[contract.type.value]), ends=ends
            ),
        ),
        (_("Inspections"), inspections),
    )


def _status_note(src: Sources) -> str:
    _ = src.tr.gettext
    if src.status is None:
        return _("No status snapshot: device states are not known (the agent never ran here).")
    state = agent_state(src.status, src.now, src.tr)
    return _("Device states as of {time} (agent {state}).").format(
        time=local_time(src.config, src.status.generated_at), state=state
    )


def _open_tickets(src: Sources, in_scope: set[str]) -> tuple[TicketLine, ...]:
    lines = []
    for t in _status_tickets(src):
        if not ({t.device, *t.related_devices} & in_scope):
            continue
        status = deadlines(t, src.now, src.tr)
        lines.append(
            TicketLine(
                t.ticket_id,
                int(t.severity),
                t.device,
                t.title,
                local_time(src.config, t.occurred_at),
                status,
            )
        )
    return tuple(lines)


def _status_tickets(src: Sources) -> tuple[TicketStatus, ...]:
    return () if src.status is None else src.status.open_tickets


def _tables(src: Sources) -> Tables:
    status = src.status
    return lambda device: {} if status is None else status.tables(device)


async def _recent_tickets(src: Sources, in_scope: set[str]) -> tuple[TicketLine, ...]:
    if src.tickets is None:
        return ()
    since = src.now - timedelta(days=src.recent_days)
    resolved = await src.tickets.resolved_since(since)
    return tuple(
        TicketLine(
            r.ticket_id,
            int(r.severity),
            r.device,
            r.title,
            local_time(src.config, r.occurred_at),
            src.tr.gettext("resolved {time} after {span}").format(
                time=local_time(src.config, r.resolved_at),
                span=span(r.resolved_at - r.occurred_at, src.tr),
            ),
        )
        for r in resolved
        if r.device in in_scope
    )


async def _trend(
    lookup: Lookup, point: str, instance: str, src: Sources, forecast: Finding | None
) -> Trend | None:
    start = src.now - timedelta(days=src.trend_days)
    samples = await lookup.samples(point, instance, start, src.now, TREND_STEP)
    if not samples:
        return None
    reading = lookup.reading(point)
    unit = point_unit(lookup.profile, point) or (reading.unit if reading is not None else "")
    trend = fit([(s.ts, s.avg) for s in samples])
    trusted = (
        forecast.outlook.trusted
        if forecast
        else (trend is not None and trend.r2 >= 0.6 and len(samples) >= 12)
    )
    per_day_unit = unit_text(f"{unit}/d" if unit else "/d", src.tr)
    per_day = number(trend.per_day, per_day_unit) if trend and trusted else "-"
    outlook = ""
    _ = src.tr.gettext
    if forecast is not None:
        eta = forecast.outlook.eta
        target = number(forecast.threshold, unit_text(unit, src.tr))
        if forecast.past:
            outlook = _("past {target}").format(target=target)
        elif eta is not None and forecast.outlook.trusted:
            days = forecast.outlook.days_left(src.now) or 0
            outlook = _("reaches {target} by {date} ({days} days)").format(
                target=target, date=local_time(lookup.config, eta)[:10], days=f"{days:.1f}"
            )
        else:
            outlook = _("no trend toward {target}").format(target=target)
    label = lookup.instance_label(point, instance) if instance else ""
    return Trend(
        point,
        label,
        unit,
        number(samples[-1].last),
        number(min(s.min for s in samples)),
        number(max(s.max for s in samples)),
        per_day,
        outlook,
    )


def trend_title(
    point: str, meaning: Meaning | None, meanings: dict[str, Meaning], tr: Translator
) -> str:
    """A series' title by what it means, as the device page's charts call it (in the
    site's language); "" when it means nothing the charts know (the trend table then
    leaves it out, unless a forecast watches it: it shows the point's name)."""
    if point in OWN_POINTS:
        return tr.gettext(OWN_POINTS[point][0])
    if meaning not in CHARTED:
        return ""
    title = tr.gettext(CHARTED[meaning][0])
    if sum(1 for m in meanings.values() if m is meaning) > 1:
        own = point.rsplit(".", 2 if point.endswith(".rate") else 1)[1].replace("_", " ")
        return shared_title(title, own, tr)
    return title


async def _trends(
    lookup: Lookup, src: Sources, forecasts: dict[tuple[str, str, str], Finding]
) -> tuple[Trend, ...]:
    out = []
    meanings = meanings_of(lookup.profile) if lookup.profile is not None else {}
    for point in await lookup.points():
        meaning = meanings.get(point)
        # A bit of a bitfield is a state too.
        definition = point_definition(lookup.profile, point) or bitfield_of(lookup.profile, point)
        is_state = definition is not None and bool(definition.states or definition.bits)
        if point == "reachable" or meaning in NOT_TRENDED or is_state:
            continue
        if point.startswith(TRAP_PREFIX):
            continue
        if meaning in TRENDED_COLUMNS:
            instances = await lookup.instances(point)
        elif "" in await lookup.instances(point):
            instances = [""]
        else:
            continue
        for instance in instances:
            forecast = forecasts.get((lookup.device.id, point, instance))
            title = trend_title(point, meaning, meanings, src.tr)
            if not title and forecast is None:
                continue  # a series the device page does not chart: raw, for its details
            trend = await _trend(lookup, point, instance, src, forecast)
            # Port error counters are listed only when they counted something.
            if trend is not None and not (meaning is Meaning.PORT_ERRORS and trend.high == "0"):
                out.append(replace(trend, title=title))
    return tuple(out)


async def _availability(lookup: Lookup, src: Sources) -> str:
    span_ = timedelta(days=src.trend_days)
    samples = await lookup.samples("reachable", "", src.now - span_, src.now, span_)
    count = sum(s.count for s in samples)
    if not count:
        return src.tr.gettext("not measured")
    answered = sum(s.avg * s.count for s in samples) / count
    return src.tr.gettext("{share} of {count} polls in {days} days").format(
        share=f"{100 * answered:.1f} %", count=count, days=src.trend_days
    )


def _reading(item: ReadingValue) -> str:
    value = item.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number(value, item.unit)
    return str(value)


async def _device(
    lookup: Lookup, src: Sources, forecasts: dict[tuple[str, str, str], Finding]
) -> DeviceHealth:
    entry = lookup.entry
    meanings = meanings_of(lookup.profile) if lookup.profile is not None else {}
    readings = ", ".join(
        f"{name} {_reading(item)}"
        for name, item in (entry.readings if entry is not None else {}).items()
        if meanings.get(name) not in NOT_LISTED
    )
    summary = summarize(entry, meanings, src.tr) if entry is not None else None
    return DeviceHealth(
        lookup.device.id,
        display_name(entry, meanings) if entry is not None else lookup.device.name,
        kind_word(lookup.device.kind.value, src.tr),
        lookup.device.address,
        src.tr.gettext(STATE_WORDS[summary.state if summary is not None else "unknown"]),
        entry.worst_level if entry is not None else None,
        local_time(src.config, entry.last_poll if entry is not None else None),
        await _availability(lookup, src),
        readings or "-",
        await _trends(lookup, src, forecasts),
        summary.line(src.tr.gettext("; "), NOT_SUMMARISED) if summary is not None else "",
    )


async def build_report(src: Sources) -> Report:
    devices = [d for d in src.config.devices if src.device in (None, d.id)]
    if src.device is not None and not devices:
        raise KeyError(src.device)
    entries = {d.id: d for d in (src.status.devices if src.status is not None else ())}
    lookups = [Lookup(src.config, d, entries.get(d.id), src.history) for d in devices]
    found = await findings(src.config, src.history, src.now, tables=_tables(src))
    forecasts = {(f.device, f.point, f.instance): f for f in found}
    in_scope = {d.id for d in devices}
    if src.device is None:
        in_scope.add(GATEWAY)  # site-wide tickets: inspections, the contract
    scope = Scope(lookups, src.now, src.recent_days, forecasts, src.tr)
    sections = await checklist(scope)
    open_tickets = _open_tickets(src, in_scope)
    raw_tickets = [t for t in _status_tickets(src) if t.device in in_scope]
    site = src.config.site_file.site
    zone = calendar.site_zone(site)
    title = src.tr.gettext("Pre-visit report: {site}").format(site=site.name) + (
        f", {src.device}" if src.device else ""
    )
    return Report(
        locale=site.locale,
        title=title,
        generated_at=f"{local_time(src.config, src.now)} ({zone.key})",
        zone=zone.key,
        site=_site_rows(src),
        status_note=_status_note(src),
        open_tickets=open_tickets,
        recent_tickets=await _recent_tickets(src, in_scope),
        recent_days=src.recent_days,
        devices=tuple([await _device(lookup, src, forecasts) for lookup in lookups]),
        checklist=sections,
        bring_along=await bring_along(lookups, raw_tickets, scope),
    )
