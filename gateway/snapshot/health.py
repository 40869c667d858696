"""The site's health in a few figures: the retained ``health`` topic (docs/mqtt.md,
"Health").

Per device its state, the worst level of the open tickets listing it, and headline
figures found by what the profile's points mean (gateway/config/meanings.py), never
by their names: cameras online of those a recorder has (``camera_state``), disks in
good order (``disk_status``), trunks up (``trunk_state``), mains and battery
(``mains_lost`` or ``time_on_battery``, ``battery_charge``, ``battery_runtime``,
``battery_status``, ``battery_low``, ``battery_voltage``). The site's totals add the
counts up. Small: a few hundred bytes per device.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gateway.config.load import LoadedConfig
from gateway.config.meanings import (
    CAMERA_ONLINE_STATES,
    DISK_HEALTHY_STATES,
    TRUNK_UP_STATES,
    Meaning,
    meanings_of,
)
from gateway.model import Level, Value
from gateway.snapshot.build import DeviceView
from gateway.tickets.state import OpenTicket

SCHEMA = "lvgw.health/1"

# Counted table columns: figure name, the meaning of the state column, what counts as
# good, and the name of the good count.
COUNTED: tuple[tuple[str, Meaning, frozenset[str], str], ...] = (
    ("cameras", Meaning.CAMERA_STATE, CAMERA_ONLINE_STATES, "online"),
    ("disks", Meaning.DISK_STATUS, DISK_HEALTHY_STATES, "healthy"),
    ("trunks", Meaning.TRUNK_STATE, TRUNK_UP_STATES, "up"),
)
# Battery figures: field name -> the meaning it is read from.
BATTERY: tuple[tuple[str, Meaning], ...] = (
    ("charge", Meaning.BATTERY_CHARGE),
    ("runtime_min", Meaning.BATTERY_RUNTIME),
    ("status", Meaning.BATTERY_STATUS),
    ("low", Meaning.BATTERY_LOW),
    ("volts", Meaning.BATTERY_VOLTAGE),
)


def build_health(
    config: LoadedConfig, views: Mapping[str, DeviceView], tickets: Iterable[OpenTicket]
) -> dict[str, Any]:
    """The health document, without its time (the publisher adds ``at``): equal
    documents mean nothing changed."""
    worst: dict[str, Level] = {}
    for ticket in tickets:
        for device_id in (ticket.device, *ticket.related):
            worst[device_id] = min(worst.get(device_id, ticket.level), ticket.level)
    devices: dict[str, dict[str, Any]] = {}
    totals: dict[str, dict[str, int]] = {}
    empty = DeviceView()
    for device in config.devices:
        view = views.get(device.id, empty)
        state = "unknown" if view.reachable is None else "up" if view.reachable else "down"
        entry: dict[str, Any] = {
            "kind": device.kind.value,
            "state": state,
            "level": worst.get(device.id),
        }
        profile = config.profiles.get(device.profile)
        if profile is not None and state == "up":  # a device that is down tells nothing
            meanings = meanings_of(profile)
            entry.update(_figures(meanings, view))
        for name, figure in entry.items():
            if name in ("cameras", "disks", "trunks", "mains"):
                _add(totals, name, figure)
        devices[device.id] = entry
    return {"schema": SCHEMA, "site": config.site_file.site.id, "devices": devices,
            "totals": totals}  # fmt: skip


def _figures(meanings: Mapping[str, Meaning], view: DeviceView) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for name, meaning, good, good_name in COUNTED:
        states = _column(meanings, meaning, view)
        if states is not None:
            ok = sum(1 for value in states.values() if value in good)
            figures[name] = {good_name: ok, "total": len(states)}
    mains = _on_mains(meanings, view)
    if mains is not None:
        figures["mains"] = "on" if mains else "lost"
    battery = {
        field: bool(value) if field == "low" else value
        for field, meaning in BATTERY
        if (value := _scalar(meanings, meaning, view)) is not None
    }
    if battery:
        figures["battery"] = battery
    return figures


def _column(
    meanings: Mapping[str, Meaning], meaning: Meaning, view: DeviceView
) -> Mapping[str, str] | None:
    """The states by instance of the first column that means ``meaning`` and was read."""
    for name, its in meanings.items():
        if its is meaning and name in view.texts:
            return view.texts[name]
    return None


def _scalar(meanings: Mapping[str, Meaning], meaning: Meaning, view: DeviceView) -> Value:
    """The latest value of the first scalar reading that means ``meaning``."""
    for name, its in meanings.items():
        reading = view.readings.get(name) if its is meaning else None
        if reading is not None and reading.value is not None:
            value = reading.value
            if isinstance(value, float):
                return round(value, 2)
            return value
    return None


def _on_mains(meanings: Mapping[str, Meaning], view: DeviceView) -> bool | None:
    lost = _scalar(meanings, Meaning.MAINS_LOST, view)
    if lost is not None:
        return not bool(lost)
    on_battery = _scalar(meanings, Meaning.TIME_ON_BATTERY, view)
    if isinstance(on_battery, int | float) and not isinstance(on_battery, bool):
        return on_battery == 0
    return None


def _add(totals: dict[str, dict[str, int]], name: str, figure: Any) -> None:
    total = totals.setdefault(name, {})
    if name == "mains":  # devices on mains of those that say
        total["on"] = total.get("on", 0) + (figure == "on")
        total["total"] = total.get("total", 0) + 1
        return
    for key, count in figure.items():
        total[key] = total.get(key, 0) + count
