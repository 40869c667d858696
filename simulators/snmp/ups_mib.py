"""What a simulated UPS serves: system group and RFC 1628 UPS-MIB (1.3.6.1.2.1.33):
identification, battery, input, output, alarms and configuration; and its traps. A
flavour with a vendor MIB serves that too (APC's PowerNet-MIB: powernet_mib)."""

from __future__ import annotations

import functools
from typing import Any

from simulators.models.events import Booted, Event, PowerChanged
from simulators.models.ups import LOW_BATTERY_MINUTES, RATED_WATTS, UpsModel
from simulators.snmp.mibtree import (
    OID,
    Gauge32,
    Integer,
    MibTree,
    ObjectId,
    OctetString,
    TimeTicks,
    TreeBuilder,
    counter32,
    oid,
)
from simulators.snmp.powernet_mib import add_powernet
from simulators.snmp.system_mib import COLD_START, add_system

UPS = "1.3.6.1.2.1.33.1"
INPUT_ENTRY = f"{UPS}.3.3.1"
OUTPUT_ENTRY = f"{UPS}.4.4.1"
ALARM_ENTRY = f"{UPS}.6.2.1"
WELL_KNOWN_ALARMS = f"{UPS}.6.3"
TRAP_ON_BATTERY = oid("1.3.6.1.2.1.33.2.1")
VOLTS = 230

Notification = tuple[OID, list[tuple[OID, Any]]]


def tree_for(model: UpsModel) -> MibTree:
    return _tree(model.device.spec.lines, model.device.flavour.vendor_mib)


def _line(read: Any) -> Any:
    return lambda index: lambda m: read(m)


def _watts(model: UpsModel) -> int:
    lines = int(model.device.spec.lines)
    return round(model.output_load() / 100 * RATED_WATTS / lines)


@functools.cache
def _tree(lines: int, vendor_mib: str) -> MibTree:
    tree = TreeBuilder()
    add_system(tree, services=72)
    if vendor_mib == "PowerNet-MIB":
        add_powernet(tree)
    tree.scalar(f"{UPS}.1.1", lambda m: OctetString(m.device.flavour.manufacturer))
    tree.scalar(f"{UPS}.1.2", lambda m: OctetString(m.device.flavour.model))
    tree.constant(f"{UPS}.1.3", OctetString("UPS firmware 2.14"))
    tree.constant(f"{UPS}.1.4", OctetString("LVGW simulated UPS agent 1.0"))
    tree.scalar(f"{UPS}.1.5", lambda m: OctetString(m.id))
    tree.constant(f"{UPS}.1.6", OctetString("site equipment rack"))
    # upsBattery
    tree.scalar(f"{UPS}.2.1", lambda m: Integer(m.battery_status()))
    tree.scalar(f"{UPS}.2.2", lambda m: Integer(m.seconds_on_battery()))
    tree.scalar(f"{UPS}.2.3", lambda m: Integer(m.minutes_remaining()))
    tree.scalar(f"{UPS}.2.4", lambda m: Integer(round(m.charge_percent())))
    tree.scalar(f"{UPS}.2.5", lambda m: Integer(m.battery_decivolts()))  # 0.1 V DC
    tree.scalar(f"{UPS}.2.6", lambda m: Integer(_battery_deciamps(m)))  # 0.1 A
    tree.constant(f"{UPS}.2.7", Integer(27))  # degrees C
    # upsInput
    tree.scalar(f"{UPS}.3.1", lambda m: counter32(m.line_bads))
    tree.constant(f"{UPS}.3.2", Integer(lines))
    rows: list[OID] = [(n,) for n in range(1, lines + 1)]
    tree.column(f"{INPUT_ENTRY}.2", rows, _line(lambda m: Integer(0 if _off(m) else 500)))
    tree.column(f"{INPUT_ENTRY}.3", rows, _line(lambda m: Integer(0 if _off(m) else VOLTS)))
    # upsOutput
    tree.scalar(f"{UPS}.4.1", lambda m: Integer(m.output_source()))
    tree.constant(f"{UPS}.4.2", Integer(500))  # 0.1 Hz
    tree.constant(f"{UPS}.4.3", Integer(lines))
    out_volts = _line(lambda m: Integer(0 if m.depleted() else VOLTS))
    tree.column(f"{OUTPUT_ENTRY}.2", rows, out_volts)
    tree.column(f"{OUTPUT_ENTRY}.3", rows, _line(lambda m: Integer(_watts(m) * 10 // VOLTS)))
    tree.column(f"{OUTPUT_ENTRY}.4", rows, _line(lambda m: Integer(_watts(m))))
    tree.column(f"{OUTPUT_ENTRY}.5", rows, _line(lambda m: Integer(m.output_load())))
    # upsAlarm: the table's rows come and go with the alarms
    tree.scalar(f"{UPS}.6.1", lambda m: Gauge32(len(m.alarms)))
    tree.dynamic(ALARM_ENTRY, _alarm_rows)
    # upsConfig
    tree.constant(f"{UPS}.9.1", Integer(VOLTS))
    tree.constant(f"{UPS}.9.2", Integer(500))
    tree.constant(f"{UPS}.9.3", Integer(VOLTS))
    tree.constant(f"{UPS}.9.4", Integer(500))
    tree.constant(f"{UPS}.9.5", Integer(3000))  # VA
    tree.constant(f"{UPS}.9.6", Integer(RATED_WATTS))
    tree.constant(f"{UPS}.9.7", Integer(LOW_BATTERY_MINUTES))
    return tree.freeze()


def _off(model: UpsModel) -> bool:
    return model.on_battery_since is not None


def _battery_deciamps(model: UpsModel) -> int:
    if model.on_battery_since is not None:
        return -round(_watts(model) * int(model.device.spec.lines) / 48 * 10)
    return 5 if model.charge_percent() < 100 else 0


def _alarm_rows(model: UpsModel) -> list[tuple[OID, Any]]:
    """upsAlarmDescr (.2) then upsAlarmTime (.3), each ordered by upsAlarmId."""
    base = oid(ALARM_ENTRY)
    descr = [
        ((*base, 2, alarm.id), ObjectId(f"{WELL_KNOWN_ALARMS}.{alarm.kind}"))
        for alarm in model.alarms
    ]
    times = [
        ((*base, 3, alarm.id), TimeTicks(max(0, int((alarm.raised_at - model.boot_at) * 100))))
        for alarm in model.alarms
    ]
    return descr + times


def notifications(model: UpsModel, event: Event) -> list[Notification]:
    if isinstance(event, Booted):
        return [(COLD_START, [])]
    if isinstance(event, PowerChanged) and event.on_battery:
        varbinds = [
            (oid(f"{UPS}.2.3.0"), Integer(model.minutes_remaining())),
            (oid(f"{UPS}.2.2.0"), Integer(model.seconds_on_battery())),
            (oid(f"{UPS}.9.7.0"), Integer(LOW_BATTERY_MINUTES)),
        ]
        return [(TRAP_ON_BATTERY, varbinds)]
    return []
