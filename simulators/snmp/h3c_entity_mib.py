"""What a simulated H3C switch serves besides the standard MIBs: H3C's
HH3C-ENTITY-EXT-MIB (hh3cEntityExtend = 1.3.6.1.4.1.25506.2.6), the objects the
switch-h3c profile reads: hh3cEntityExtStateTable, one row per entity of the switch's
entPhysicalTable (by entPhysicalIndex): the chassis carries the CPU and memory, the
temperature sensors their readings and thresholds, and every entity an error status
(a stopped fan fanError, a failed supply psuError). What an entity has nothing of
reads 0, as the MIB's agents answer."""

from __future__ import annotations

from typing import Any

from simulators.models.switch import Sensor, SwitchModel
from simulators.snmp.mibtree import OID, Integer, TreeBuilder

STATE_ENTRY = "1.3.6.1.4.1.25506.2.6.1.1.1.1"  # hh3cEntityExtStateEntry

ENABLED = 3  # Hh3cOperState enabled(3)
NORMAL, FAN_ERROR, PSU_ERROR = 2, 41, 51  # hh3cEntityExtErrorStatus
CHASSIS = 1  # entPhysicalIndex of the chassis (switch_mib's entities)
CPU_USAGE, CPU_THRESHOLD = 11, 80  # percent
MEM_USAGE, MEM_THRESHOLD = 38, 80
TEMPERATURE_THRESHOLD = 70  # centigrade


def add_h3c_entity(tree: TreeBuilder, temperatures: int, fans: int, psus: int) -> None:
    rows: list[OID] = [(CHASSIS,)]
    rows += [(10 + i,) for i in range(1, temperatures + 1)]
    rows += [(20 + i,) for i in range(1, fans + 1)] + [(30 + i,) for i in range(1, psus + 1)]

    def col(number: int, read: Any) -> None:
        tree.column(f"{STATE_ENTRY}.{number}", rows, _entity(read))

    col(1, lambda m, s, n: Integer(n))  # hh3cEntityExtPhysicalIndex
    col(3, lambda m, s, n: Integer(ENABLED))
    col(6, lambda m, s, n: Integer(CPU_USAGE if s is None else 0))
    col(7, lambda m, s, n: Integer(CPU_THRESHOLD if s is None else 0))
    col(8, lambda m, s, n: Integer(MEM_USAGE if s is None else 0))
    col(9, lambda m, s, n: Integer(MEM_THRESHOLD if s is None else 0))
    col(12, lambda m, s, n: Integer(_celsius(m, s)))
    col(13, lambda m, s, n: Integer(TEMPERATURE_THRESHOLD if _sensor(s) else 0))
    col(19, lambda m, s, n: Integer(_error_status(s)))


def _entity(read: Any) -> Any:
    def factory(index: OID) -> Any:
        n = index[0]
        if n == CHASSIS:
            return lambda m: read(m, None, n)
        return lambda m: read(m, m.sensor_by_index[n], n)

    return factory


def _sensor(sensor: Sensor | None) -> bool:
    return sensor is not None and sensor.klass == 8  # entPhysicalClass sensor(8)


def _celsius(model: SwitchModel, sensor: Sensor | None) -> int:
    return model.sensor_value(sensor) if sensor is not None and _sensor(sensor) else 0


def _error_status(sensor: Sensor | None) -> int:
    if sensor is None or sensor.ok:
        return NORMAL
    return {7: FAN_ERROR, 6: PSU_ERROR}.get(sensor.klass, NORMAL)  # fan(7), powerSupply(6)
