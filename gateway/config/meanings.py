"""What a profile point means, where code needs to know (docs/profiles.md, Meanings).

Point names belong to profiles; the pre-visit report, its checklist, the forecasts
and the status views look for a point by what it means (``meaning: battery_voltage``),
never by its name. The vocabulary is closed: a meaning not listed here is a profile
error. Each meaning says where it may stand: on a scalar point (one value per
device) or a table column (one value per instance: a disk, a zone, a port), and
whether it is the point's per-second rate (a counter with ``rate: true``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.config.profile import Point, Profile


class Meaning(enum.StrEnum):
    # Backup power: mains, battery, UPS.
    MAINS_LOST = "mains_lost"
    TIME_ON_BATTERY = "time_on_battery"
    BATTERY_VOLTAGE = "battery_voltage"
    BATTERY_CHARGE = "battery_charge"
    BATTERY_STATUS = "battery_status"
    BATTERY_LOW = "battery_low"
    BATTERY_TEMPERATURE = "battery_temperature"
    BATTERY_RUNTIME = "battery_runtime"
    # Intrusion alarm: the panel and its zones.
    ZONE_ALARM = "zone_alarm"
    ZONE_FAULT = "zone_fault"
    ZONE_TAMPER = "zone_tamper"
    DETECTOR_BATTERY_LOW = "detector_battery_low"
    ENCLOSURE_TAMPER = "enclosure_tamper"
    ARMED = "armed"
    REPORTING_FAILED = "reporting_failed"
    ZONE_MAP_VERSION = "zone_map_version"
    # Recording disks.
    DISK_FREE = "disk_free"
    DISK_CAPACITY = "disk_capacity"
    DISK_STATUS = "disk_status"
    DISK_MODEL = "disk_model"
    # Cameras of a recorder, trunks of a PBX.
    CAMERA_STATE = "camera_state"
    TRUNK_STATE = "trunk_state"
    CALLS_ACTIVE = "calls_active"
    # Ports and environment sensors (ENTITY-SENSOR-MIB's shape).
    PORT_ERRORS = "port_errors"
    PORT_STATE = "port_state"
    PORT_ADMIN_STATE = "port_admin_state"
    PORT_TRAFFIC = "port_traffic"
    SENSOR_TYPE = "sensor_type"
    SENSOR_VALUE = "sensor_value"
    SENSOR_PRECISION = "sensor_precision"
    SENSOR_STATUS = "sensor_status"
    TEMPERATURE = "temperature"
    # Fans and temperatures in a vendor's own tables (HUAWEI-ENTITY-EXTENT-MIB,
    # CISCO-ENVMON-MIB, HH3C-ENTITY-EXT-MIB...) or scalars (SYNOLOGY-SYSTEM-MIB).
    FAN_STATE = "fan_state"
    FAN_PRESENT = "fan_present"
    ENTITY_CLASS = "entity_class"
    SENSOR_TEMPERATURE = "sensor_temperature"
    TEMPERATURE_LIMIT = "temperature_limit"
    TEMPERATURE_STATE = "temperature_state"
    # What the device is and how long it has run: not health series.
    DESCRIPTION = "description"
    PRODUCT_ID = "product_id"
    UPTIME = "uptime"
    CLOCK = "clock"
    DEVICE_NAME = "device_name"
    COUNT = "count"


@dataclass(frozen=True, slots=True)
class MeaningSpec:
    text: str  # what the value says, for docs/profiles.md
    table: bool = False  # a table column (per instance), else a scalar point
    rate: bool = False  # the per-second rate of a counter (`rate: true`)
    either: bool = False  # a scalar point or a table column alike (a fan: one or a tray)


M = Meaning
VOCABULARY: dict[Meaning, MeaningSpec] = {
    M.MAINS_LOST: MeaningSpec("1 while mains power is lost, else 0"),
    M.TIME_ON_BATTERY: MeaningSpec("seconds on battery, 0 while on mains"),
    M.BATTERY_VOLTAGE: MeaningSpec("the backup battery's voltage, V"),
    M.BATTERY_CHARGE: MeaningSpec("the backup battery's charge, %"),
    M.BATTERY_STATUS: MeaningSpec("the battery's state: `normal`, `low`, `depleted`"),
    M.BATTERY_LOW: MeaningSpec("1 while the device reports its battery low"),
    M.BATTERY_TEMPERATURE: MeaningSpec("the battery's temperature, °C"),
    M.BATTERY_RUNTIME: MeaningSpec("minutes the battery would last at the present load, min"),
    M.ZONE_ALARM: MeaningSpec("1 while the zone is in alarm", table=True),
    M.ZONE_FAULT: MeaningSpec("1 while the zone is in fault", table=True),
    M.ZONE_TAMPER: MeaningSpec("1 while the zone's detector is tampered with", table=True),
    M.DETECTOR_BATTERY_LOW: MeaningSpec(
        "1 while the zone's wireless detector reports a low battery", table=True
    ),
    M.ENCLOSURE_TAMPER: MeaningSpec("1 while the panel's enclosure is open"),
    M.ARMED: MeaningSpec("1 while the panel is armed"),
    M.REPORTING_FAILED: MeaningSpec("1 while the path to the alarm receiving centre failed"),
    M.ZONE_MAP_VERSION: MeaningSpec("the version of the zone map the panel holds"),
    M.DISK_FREE: MeaningSpec("free space on the disk, MB", table=True),
    M.DISK_CAPACITY: MeaningSpec("the disk's size, MB", table=True),
    M.DISK_STATUS: MeaningSpec(
        "the disk's state (`normal`; `abnormal`, `smartfailed`, `failed`... mean replace it)",
        table=True,
    ),
    M.DISK_MODEL: MeaningSpec("the disk's model, text", table=True),
    M.CAMERA_STATE: MeaningSpec(
        "the camera channel's state: `online` while the recorder gets its video", table=True
    ),
    M.TRUNK_STATE: MeaningSpec(
        "the trunk's state: `registered`, `reachable` or `lagged` while it can carry calls",
        table=True,
    ),
    M.CALLS_ACTIVE: MeaningSpec("calls in progress"),
    M.PORT_ERRORS: MeaningSpec("errors per second on the port", table=True, rate=True),
    M.PORT_STATE: MeaningSpec(
        "the port's operational state: `up` while its link carries traffic", table=True
    ),
    M.PORT_ADMIN_STATE: MeaningSpec(
        "the port's administrative state: `up` while it is enabled", table=True
    ),
    M.PORT_TRAFFIC: MeaningSpec(
        "bytes per second through the port (one direction)", table=True, rate=True
    ),
    M.SENSOR_TYPE: MeaningSpec(
        "what the sensor measures: a state, `celsius`, `rpm`, `truthvalue`...", table=True
    ),
    M.SENSOR_VALUE: MeaningSpec("the sensor's raw value (times 10^precision)", table=True),
    M.SENSOR_PRECISION: MeaningSpec("decimal places of the sensor's value", table=True),
    M.SENSOR_STATUS: MeaningSpec(
        "the sensor's state: `ok`, `unavailable`, `nonoperational`", table=True
    ),
    M.TEMPERATURE: MeaningSpec("the device's own temperature, °C"),
    M.FAN_STATE: MeaningSpec(
        "a fan's state: `normal` while it turns; `absent`, `not_present` or `entity_absent`"
        " when none is fitted; any other state (`abnormal`, `failed`, `critical`,"
        " `fan_error`...) is a failed fan",
        either=True,
    ),
    M.FAN_PRESENT: MeaningSpec(
        "whether the row's fan is fitted: `present`, `absent` (where its state does not say)",
        table=True,
    ),
    M.ENTITY_CLASS: MeaningSpec(
        "what the row is (ENTITY-MIB entPhysicalClass: `fan`, `sensor`, `module`...): in a"
        " table of every entity, the `fan_state` rows are those of class `fan`",
        table=True,
    ),
    M.SENSOR_TEMPERATURE: MeaningSpec(
        "a temperature in a table (a board's, a test point's, a disk's), °C", table=True
    ),
    M.TEMPERATURE_LIMIT: MeaningSpec(
        "the threshold of the row's `sensor_temperature`, °C: above it is too hot; a row"
        " whose limit reads 0 has no sensor",
        table=True,
    ),
    M.TEMPERATURE_STATE: MeaningSpec(
        "the device's own judgement of the row's temperature: `normal`; `not_present` when"
        " there is no sensor; any other state (`warning`, `critical`...) is too hot",
        table=True,
    ),
    M.DESCRIPTION: MeaningSpec("what the device says it is, a long text"),
    M.PRODUCT_ID: MeaningSpec("the vendor's identifier of the product (sysObjectID)"),
    M.UPTIME: MeaningSpec("seconds since the device started"),
    M.CLOCK: MeaningSpec("the device's clock, Unix seconds: shown as its offset from ours"),
    M.DEVICE_NAME: MeaningSpec("the name the device gives itself (sysName), text"),
    M.COUNT: MeaningSpec("how many of something the device has: zones, disks, cameras"),
}


def _meant(point: Point) -> Iterator[tuple[str, Meaning]]:
    """(reading name suffix, meaning) of a point and of its bits."""
    if point.meaning is not None:
        yield (".rate" if VOCABULARY[point.meaning].rate else ""), point.meaning
    for bit, meaning in point.meanings.items():
        yield f".{bit}", meaning


def meanings_of(profile: Profile) -> dict[str, Meaning]:
    """Reading name -> meaning, for every reading of ``profile`` that has one, in the
    profile's order (scalars, then table columns; a point before its bits)."""
    out: dict[str, Meaning] = {}
    for name, point in profile.points.items():
        out.update((name + suffix, meaning) for suffix, meaning in _meant(point))
    out.update(column_meanings(profile))
    return out


def column_meanings(profile: Profile) -> dict[str, Meaning]:
    """Like `meanings_of`, the table columns only (a meaning that stands on a scalar or
    a column alike is told apart by where it stands)."""
    out: dict[str, Meaning] = {}
    for table_name, table in profile.tables.items():
        for column, point in table.columns.items():
            out.update(
                (f"{table_name}.{column}{suffix}", meaning) for suffix, meaning in _meant(point)
            )
    return out


def points_meaning(profile: Profile | None, *meanings: Meaning) -> tuple[str, ...]:
    """The readings of ``profile`` that mean one of ``meanings``, in profile order."""
    if profile is None:
        return ()
    wanted = set(meanings)
    return tuple(name for name, meaning in meanings_of(profile).items() if meaning in wanted)


def meaning_of(profile: Profile | None, reading: str) -> Meaning | None:
    """What reading ``reading`` of ``profile`` means, None when it does not say."""
    return None if profile is None else meanings_of(profile).get(reading)


def meaning_problems(profile: Profile) -> list[tuple[tuple[str | int, ...], str]]:
    """Meanings that do not fit where they stand, with where they are in the file."""
    problems: list[tuple[tuple[str | int, ...], str]] = []

    def check(at: tuple[str | int, ...], label: str, point: Point, in_table: bool) -> None:
        unknown = sorted(set(point.meanings) - set(point.bits.values()))
        if unknown:
            problems.append(((*at, "meanings"), f"{label}: no bit {', '.join(unknown)}"))
        for _, meaning in _meant(point):
            spec = VOCABULARY[meaning]
            if spec.table != in_table and not spec.either:
                where = "a table column" if spec.table else "a scalar point, not a table column"
                problems.append(((*at, "meaning"), f"{label}: {meaning} is for {where}"))
            if spec.rate and not point.rate:
                problems.append(
                    ((*at, "meaning"), f"{label}: {meaning} is a rate: give the counter rate: true")
                )

    for name, point in profile.points.items():
        check(("points", name), f"point {name}", point, in_table=False)
    for table_name, table in profile.tables.items():
        for column, point in table.columns.items():
            at = ("tables", table_name, "columns", column)
            check(at, f"column {table_name}.{column}", point, in_table=True)
    return problems


# State names the report and the forecasts judge by: a profile maps its vendor's codes
# to these (``states:``), as the shipped profiles do.
SENSOR_CELSIUS = "celsius"  # sensor_type of a temperature sensor
SENSOR_RPM = "rpm"  # sensor_type of a fan
SENSOR_TRUTHVALUE = "truthvalue"  # sensor_type of a power supply's state (1 ok, 2 failed)
DISK_BAD_STATES = frozenset(
    {"abnormal", "smartfailed", "smart_failed", "failed", "not_online", "crashed",
     "system_partition_failed"}
)  # fmt: skip
DISK_HEALTHY_STATES = frozenset({"normal", "idle"})  # disk_status of a disk in good order
CAMERA_ONLINE_STATES = frozenset({"online"})  # camera_state
TRUNK_UP_STATES = frozenset({"registered", "reachable", "lagged"})  # trunk_state
PORT_UP_STATES = frozenset({"up"})  # port_state and port_admin_state
FAN_OK_STATES = frozenset({"normal"})  # fan_state of a fan that turns
# fan_state of a place without a fan, or of an entity that does not say: not a fan.
FAN_NOT_FITTED_STATES = frozenset({"absent", "not_present", "entity_absent", "not_supported"})
FAN_ABSENT = "absent"  # fan_present of a place without a fan
TEMPERATURE_OK_STATES = frozenset({"normal"})  # temperature_state within the device's limits
TEMPERATURE_NO_SENSOR_STATES = frozenset({"not_present"})  # temperature_state of no sensor
ENTITY_FAN = "fan"  # entity_class of a fan (ENTITY-MIB PhysicalClass fan(7))
