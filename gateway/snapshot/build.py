"""The status snapshot built from the pipeline's state: what each device last said
(`DeviceView`), the open tickets with their deadlines, and the uplink's figures."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from gateway import __version__
from gateway.config.load import LoadedConfig
from gateway.config.meanings import Meaning, column_meanings, meanings_of
from gateway.config.profile import Profile
from gateway.config.site import Device
from gateway.model import Level, Reading, Value
from gateway.poller.result import PollResult
from gateway.snapshot.model import (
    AgentInfo,
    DeviceStatus,
    ReadingValue,
    SiteInfo,
    StatusSnapshot,
    TicketStatus,
    UplinkStatus,
)
from gateway.tickets.state import OpenTicket

KEY_READINGS = 8  # scalar readings shown per device
TABLE_ROWS = 64  # instances per table column in the snapshot's "tables"
# Long texts that say what a device is: not among its "meant" readings.
NOT_MEANT = frozenset({Meaning.DESCRIPTION, Meaning.PRODUCT_ID})


@dataclass(slots=True)
class DeviceView:
    # Table columns whose numbers are kept (those with a meaning: `meant_columns`); the
    # texts of every table are kept.
    keep: frozenset[str] = frozenset()
    last_poll: datetime | None = None
    reachable: bool | None = None
    error: str = ""
    readings: dict[str, Reading] = field(default_factory=dict)
    # Table readings whose value is text (states, labels), by point and instance.
    texts: dict[str, dict[str, str]] = field(default_factory=dict)
    # Numbers (and flags) of the kept table columns, by point and instance.
    numbers: dict[str, dict[str, Value]] = field(default_factory=dict)
    version: int = 0  # counts updates: a snapshot rebuilds a device only when it moved

    def update(self, result: PollResult) -> None:
        self.version += 1
        if result.source == "poll":
            self.last_poll = result.ts
            self.reachable = result.reachable
            self.error = result.error
        for reading in result.readings:
            if not reading.instance and reading.point not in ("reachable",):
                self.readings[reading.point] = reading
            elif reading.instance and isinstance(reading.value, str):
                self.texts.setdefault(reading.point, {})[reading.instance] = reading.value
            elif reading.instance and reading.point in self.keep:
                self.numbers.setdefault(reading.point, {})[reading.instance] = reading.value


def meant_columns(config: LoadedConfig, device_id: str) -> frozenset[str]:
    """The table readings of a device whose profile gives them a meaning: the numbers
    a `DeviceView` keeps for the snapshot's ``meant``."""
    device = next((d for d in config.devices if d.id == device_id), None)
    profile = None if device is None else config.profiles.get(device.profile)
    if profile is None:
        return frozenset()
    return frozenset(column_meanings(profile))


def meant_readings(
    config: LoadedConfig, device: Device, view: DeviceView
) -> dict[str, dict[str, Value]]:
    """The device's readings that carry a meaning (its identity left out), by reading
    and instance ("" for a scalar); a table's first TABLE_ROWS instances."""
    profile = config.profiles.get(device.profile)
    if profile is None:
        return {}
    cached = _MEANINGS.get(device.profile)
    if cached is None or cached[0] is not profile:  # first, or a profile loaded anew
        cached = _MEANINGS[device.profile] = (
            profile,
            meanings_of(profile),
            frozenset(column_meanings(profile)),
        )
    out: dict[str, dict[str, Value]] = {}
    for name, meaning in cached[1].items():
        if meaning in NOT_MEANT:
            continue
        if name in cached[2]:
            rows = view.numbers.get(name) or view.texts.get(name)
            if rows and len(rows) > TABLE_ROWS:  # the first by instance; else as read (cheaper)
                rows = dict(sorted(rows.items(), key=lambda kv: natural(kv[0]))[:TABLE_ROWS])
            if rows:
                out[name] = {instance: _rounded(value) for instance, value in rows.items()}
        elif (reading := view.readings.get(name)) is not None and reading.value is not None:
            out[name] = {"": _value(reading)}
    return out


# Each profile's meanings, by profile name (as loaded: a profile loaded anew replaces
# its entry), so that a device's entry does not work them out at every snapshot.
_MEANINGS: dict[str, tuple[Profile, dict[str, Meaning], frozenset[str]]] = {}


def _rounded(value: Value) -> Value:
    return round(value, 3) if isinstance(value, float) else value


def table_texts(
    config: LoadedConfig, device: Device, view: DeviceView
) -> dict[str, dict[str, str]]:
    """The states and labels of a device's tables (disk status, zone and port names...),
    for the report and the status page; free text columns (descriptions) are left out."""
    profile = config.profiles.get(device.profile)
    if profile is None:
        return {}
    wanted: set[str] = set()
    for name, table in profile.tables.items():
        wanted.update(f"{name}.{column}" for column, point in table.columns.items() if point.states)
        if table.label:
            wanted.add(f"{name}.{table.label}")
    return {
        point: dict(sorted(rows.items(), key=lambda kv: natural(kv[0]))[:TABLE_ROWS])
        for point, rows in sorted(view.texts.items())
        if point in wanted
    }


def natural(instance: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key for instances: "10" after "9", "1.10" after "1.9", numbers before text."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in instance.split("."))


def _value(reading: Reading) -> Value:
    value = reading.value
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, str) and len(value) > 80:
        return value[:77] + "..."
    return value


# Per device: the view's version and the worst level it was built with, and the entry.
StatusCache = dict[str, tuple[int, Level | None, DeviceStatus]]


def build(
    config: LoadedConfig,
    views: Mapping[str, DeviceView],
    tickets: Iterable[OpenTicket],
    uplink: UplinkStatus,
    now: datetime | None = None,
    cache: StatusCache | None = None,
) -> StatusSnapshot:
    """The snapshot of the site: every device of the site file (what it last said,
    the most severe open ticket listing it) and the open tickets with their deadlines.
    With a ``cache`` kept between calls, a device whose view and worst level did not
    change since the last call keeps its entry instead of being built again."""
    now = now or datetime.now(UTC)
    ordered = sorted(tickets, key=lambda t: (t.level, t.opened_at))
    worst: dict[str, Level] = {}
    for ticket in ordered:
        for device_id in (ticket.device, *ticket.related):
            worst[device_id] = min(worst.get(device_id, ticket.level), ticket.level)
    devices = []
    empty = DeviceView()
    for device in config.devices:
        view = views.get(device.id, empty)
        level = worst.get(device.id)
        cached = cache.get(device.id) if cache is not None else None
        if cached is not None and cached[0] == view.version and cached[1] == level:
            devices.append(cached[2])
            continue
        entry = _device_status(config, device, view, level)
        if cache is not None:
            cache[device.id] = (view.version, level, entry)
        devices.append(entry)
    open_tickets = [
        TicketStatus(
            ticket_id=ticket.ticket_id,
            device=ticket.device,
            fault=ticket.code,
            instance=ticket.instance or None,
            severity=ticket.level,
            title=ticket.title,
            occurred_at=ticket.opened_at,
            response_due=ticket.response_due,
            onsite_due=ticket.onsite_due,
            acknowledged_by=ticket.acked_by,
            related_devices=tuple(ticket.related),
        )
        for ticket in ordered
    ]
    site = config.site_file.site
    return StatusSnapshot(
        site=SiteInfo(id=site.id, name=site.name, customer=site.customer.name),
        generated_at=now,
        agent=AgentInfo(version=__version__, pid=os.getpid()),
        uplink=uplink,
        devices=tuple(devices),
        open_tickets=tuple(open_tickets),
    )


def _device_status(
    config: LoadedConfig, device: Device, view: DeviceView, level: Level | None
) -> DeviceStatus:
    key = list(view.readings.values())[:KEY_READINGS]
    return DeviceStatus(
        id=device.id,
        name=device.name,
        kind=device.kind.value,
        address=device.address,
        parent=device.parent,
        reachable=view.reachable,
        last_poll=view.last_poll,
        error=view.error or None,
        worst_level=level,
        readings={r.point: ReadingValue(value=_value(r), unit=r.unit) for r in key},
        tables=table_texts(config, device, view),
        meant=meant_readings(config, device, view),
    )
