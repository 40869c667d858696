"""The alarm panel's register map (docs/alarm-panel-modbus.md is its reference).

0-based protocol addresses, the same words for holding (FC 3) and input (FC 4)
registers, all read-only:

    0      system status bits: 0 mains failure, 1 battery low, 2 communication
           failure, 3 box tamper, 4 armed, 5 any zone in alarm, 6 any zone trouble
           (tamper, fault or detector low battery)
    1      battery voltage, uint16, 0.01 V
    2      zone count
    3      mains voltage, uint16, V (0 on mains failure)
    4-5    uptime, uint32 seconds, high word first
    6      register map version (1)
    7-15   reserved, read as 0
    16+z-1 zone z status bits: 0 alarm, 1 tamper, 2 fault, 3 bypass,
           4 detector low battery
"""

from __future__ import annotations

from simulators.models.panel import (
    ZONE_ALARM,
    ZONE_FAULT,
    ZONE_LOW_BATTERY,
    ZONE_TAMPER,
    AlarmPanelModel,
)

MAP_VERSION = 1
ZONE_BASE = 16

SYS_MAINS_FAILURE = 1 << 0
SYS_BATTERY_LOW = 1 << 1
SYS_COMM_FAILURE = 1 << 2
SYS_BOX_TAMPER = 1 << 3
SYS_ARMED = 1 << 4
SYS_ZONE_ALARM = 1 << 5
SYS_ZONE_TROUBLE = 1 << 6

TROUBLE = ZONE_TAMPER | ZONE_FAULT | ZONE_LOW_BATTERY


def register_count(zones: int) -> int:
    return ZONE_BASE + zones


def system_word(panel: AlarmPanelModel) -> int:
    word = 0
    if panel.on_battery:
        word |= SYS_MAINS_FAILURE
    if panel.battery_low():
        word |= SYS_BATTERY_LOW
    if panel.comm_failure:
        word |= SYS_COMM_FAILURE
    if panel.box_tamper:
        word |= SYS_BOX_TAMPER
    if panel.armed:
        word |= SYS_ARMED
    if any(zone.flags & ZONE_ALARM for zone in panel.zones):
        word |= SYS_ZONE_ALARM
    if any(zone.flags & TROUBLE for zone in panel.zones):
        word |= SYS_ZONE_TROUBLE
    return word


def registers(panel: AlarmPanelModel) -> list[int]:
    """Every register of the map, from address 0."""
    uptime = int(panel.uptime()) & 0xFFFFFFFF
    words = [
        system_word(panel),
        round(panel.battery_volts() * 100),
        len(panel.zones),
        0 if panel.on_battery else 230,
        uptime >> 16,
        uptime & 0xFFFF,
        MAP_VERSION,
    ]
    words += [0] * (ZONE_BASE - len(words))
    words += [zone.flags for zone in panel.zones]
    return words
