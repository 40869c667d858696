"""What a simulated Cisco switch serves besides the standard MIBs, the objects the
switch-cisco profile reads, from Cisco's published modules (ciscoMgmt =
1.3.6.1.4.1.9.9):

- CISCO-ENVMON-MIB (revision 200311250000Z, ciscoEnvMonMIB = ciscoMgmt 13): the
  temperature, fan and power supply status tables, one row per sensor of the switch
  model, each judged as the switch would (CiscoEnvMonState);
- CISCO-PROCESS-MIB (revision 202004210000Z, ciscoProcessMIB = ciscoMgmt 109):
  cpmCPUTotalTable, one CPU;
- CISCO-MEMORY-POOL-MIB (revision 201309180000Z, ciscoMemoryPoolMIB = ciscoMgmt 48):
  the processor and I/O memory pools.
"""

from __future__ import annotations

from typing import Any

from simulators.models.switch import Sensor, SwitchModel
from simulators.snmp.mibtree import OID, Gauge32, Integer, OctetString, TreeBuilder

ENVMON = "1.3.6.1.4.1.9.9.13.1"  # ciscoEnvMonObjects
TEMPERATURE_ENTRY = f"{ENVMON}.3.1"  # ciscoEnvMonTemperatureStatusEntry
FAN_ENTRY = f"{ENVMON}.4.1"  # ciscoEnvMonFanStatusEntry
SUPPLY_ENTRY = f"{ENVMON}.5.1"  # ciscoEnvMonSupplyStatusEntry
CPU_ENTRY = "1.3.6.1.4.1.9.9.109.1.1.1.1"  # cpmCPUTotalEntry
MEMORY_POOL_ENTRY = "1.3.6.1.4.1.9.9.48.1.1.1"  # ciscoMemoryPoolEntry

# CiscoEnvMonState
NORMAL, WARNING, CRITICAL = 1, 2, 3
AC = 2  # ciscoEnvMonSupplySource ac(2)
# The simulated switch's own temperature judgement (the real ones are per model):
# warning from 65 C, critical from 80 C; ciscoEnvMonTemperatureThreshold, the
# shutdown point, 90 C.
WARNING_FROM, CRITICAL_FROM, SHUTDOWN_THRESHOLD = 65, 80, 90
CPU_CHASSIS = 1  # cpmCPUTotalPhysicalIndex: the chassis, entPhysicalIndex 1
CPU_1MIN, CPU_5MIN = 9, 7  # percent busy
# ciscoMemoryPoolType -> (name, used, free) bytes: processor(1) and io(2).
MEMORY_POOLS = {1: ("Processor", 180_223_456, 612_401_184), 2: ("I/O", 12_582_912, 4_194_304)}


def add_cisco_mibs(tree: TreeBuilder, temperatures: int, fans: int, psus: int) -> None:
    _temperatures(tree, temperatures)
    _units(tree, FAN_ENTRY, fans, 20)
    _units(tree, SUPPLY_ENTRY, psus, 30)
    rows: list[OID] = [(n,) for n in range(1, psus + 1)]
    tree.column(f"{SUPPLY_ENTRY}.4", rows, lambda _i: lambda m: Integer(AC))
    cpu: list[OID] = [(1,)]
    tree.column(f"{CPU_ENTRY}.2", cpu, lambda _i: lambda m: Integer(CPU_CHASSIS))
    tree.column(f"{CPU_ENTRY}.7", cpu, lambda _i: lambda m: Gauge32(CPU_1MIN))
    tree.column(f"{CPU_ENTRY}.8", cpu, lambda _i: lambda m: Gauge32(CPU_5MIN))
    pools: list[OID] = [(t,) for t in MEMORY_POOLS]

    def pool(field: int, make: Any) -> Any:
        return lambda index: lambda m: make(MEMORY_POOLS[index[0]][field])

    tree.column(f"{MEMORY_POOL_ENTRY}.2", pools, pool(0, OctetString))
    tree.column(f"{MEMORY_POOL_ENTRY}.4", pools, lambda _i: lambda m: Integer(1))  # valid
    tree.column(f"{MEMORY_POOL_ENTRY}.5", pools, pool(1, Gauge32))
    tree.column(f"{MEMORY_POOL_ENTRY}.6", pools, pool(2, Gauge32))


def _sensor(first: int, read: Any) -> Any:
    """Row n of a table reads the model's sensor ``first + n``."""
    return lambda index: lambda m: read(m, m.sensor_by_index[first + index[0]])


def _temperatures(tree: TreeBuilder, count: int) -> None:
    rows: list[OID] = [(n,) for n in range(1, count + 1)]

    def col(number: int, read: Any) -> None:
        tree.column(f"{TEMPERATURE_ENTRY}.{number}", rows, _sensor(10, read))

    col(2, lambda m, s: OctetString(s.name))
    col(3, lambda m, s: Gauge32(_celsius(m, s)))
    col(4, lambda m, s: Integer(SHUTDOWN_THRESHOLD))
    col(6, lambda m, s: Integer(_judged(m, s)))


def _celsius(model: SwitchModel, sensor: Sensor) -> int:
    return max(0, model.sensor_value(sensor))  # Gauge32: never below 0


def _judged(model: SwitchModel, sensor: Sensor) -> int:
    celsius = model.sensor_value(sensor)
    if celsius >= CRITICAL_FROM:
        return CRITICAL
    return WARNING if celsius >= WARNING_FROM else NORMAL


def _units(tree: TreeBuilder, entry: str, count: int, first: int) -> None:
    """A fan or supply table: description and state (a failed unit: critical)."""
    rows: list[OID] = [(n,) for n in range(1, count + 1)]
    tree.column(f"{entry}.2", rows, _sensor(first, lambda m, s: OctetString(s.name)))
    tree.column(f"{entry}.3", rows, _sensor(first, lambda m, s: Integer(_unit_state(s))))


def _unit_state(sensor: Sensor) -> int:
    return NORMAL if sensor.ok else CRITICAL
