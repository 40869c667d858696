"""The readings the forecasts and the pre-visit report look for, by what they mean.

Profiles name their points; this is the one place that says which names carry a
meaning the proactive jobs and the report need (docs/report.md, "Points read"). Each
meaning lists the names in order of preference; the first a device has in the
embedded store is used. A device with none of them is "not measured" for it.
"""

from __future__ import annotations

from collections.abc import Sequence

# Power: mains and the backup battery.
MAINS_FAIL = ("panel.system.mains_fail", "panel.mains_fail")  # 1 while mains is lost
ON_BATTERY_SECONDS = ("ups.seconds_on_battery",)  # > 0 while on battery
BATTERY_VOLTAGE = ("panel.battery_voltage", "panel.battery", "ups.battery_voltage")
BATTERY_CHARGE = ("ups.charge",)  # percent
BATTERY_LOW = ("panel.system.battery_low", "panel.battery_low")

# Intrusion alarm zones (a table, instance = zone).
ZONE_FAULT = ("zone.status.fault", "zone.fault")
ZONE_TAMPER = ("zone.status.tamper", "zone.tamper")
ZONE_LOW_BATTERY = ("zone.status.low_battery", "zone.low_battery")
BOX_TAMPER = ("panel.system.box_tamper", "panel.box_tamper")

# NVR disks (a table, instance = disk); sizes in MB as the NVR MIBs give them.
DISK_FREE = ("disk.free",)
DISK_CAPACITY = ("disk.capacity",)
DISK_STATUS = ("disk.status",)  # a state: normal, smartfailed, abnormal...
DISK_MODEL = ("disk.model",)  # text

# Switch ports (instance = port) and environment sensors (instance = sensor).
PORT_ERRORS = ("if.in_errors.rate", "if.out_errors.rate")  # errors per second
PORT_NAME = ("if.name",)
SENSOR_TYPE = "sensor.type"  # a state: celsius, rpm, ...
SENSOR_VALUE = "sensor.value"
SENSOR_PRECISION = "sensor.precision"
SENSOR_STATUS = "sensor.oper_status"  # a state: ok, unavailable, nonoperational
TEMPERATURE = ("ups.battery_temperature", "temperature")  # scalar temperatures, C
PSU_STATUS = ("psu.status",)  # a state per power supply

# ENTITY-SENSOR-MIB entPhySensorType codes, for stores that keep states as codes.
SENSOR_CELSIUS = ("celsius", 8)
SENSOR_RPM = ("rpm", 10)

# Disk states that mean "replace it" (HIKVISION-MIB style names, normalized).
DISK_BAD_STATES = frozenset({"abnormal", "smartfailed", "smart_failed", "failed", "not_online"})


def first_present(candidates: Sequence[str], available: Sequence[str] | set[str]) -> str | None:
    """The first of ``candidates`` among the ``available`` point names."""
    return next((name for name in candidates if name in available), None)
