"""What a simulated Huawei switch serves besides the standard MIBs: Huawei's
HUAWEI-ENTITY-EXTENT-MIB (revision 202211240000Z, hwEntityExtentMIB =
1.3.6.1.4.1.2011.5.25.31), the objects the switch-huawei profile reads: the entity
state table (by entPhysicalIndex: one row per board with a temperature sensor), the
fan status table and the power status table (both by slot and number)."""

from __future__ import annotations

from typing import Any

from simulators.models.switch import Sensor
from simulators.snmp.mibtree import OID, Integer, TreeBuilder

HW_ENTITY_STATE = "1.3.6.1.4.1.2011.5.25.31.1.1"
STATE_ENTRY = f"{HW_ENTITY_STATE}.1.1"  # hwEntityStateTable (hwEntityState 1)
FAN_ENTRY = f"{HW_ENTITY_STATE}.10.1"  # hwFanStatusTable (hwEntityState 10)
PWR_ENTRY = f"{HW_ENTITY_STATE}.18.1"  # hwPwrStatusTable (hwEntityState 18)
SLOT = 0

ENABLED = 3  # HwOperState enabled(3)
PRESENT = 1  # hwEntityFanPresent / hwEntityPwrPresent present(1)
CPU_USAGE = 15  # percent
CPU_THRESHOLD = 80
MEM_USAGE = 45
TEMPERATURE_THRESHOLD = 70  # centigrade


def add_huawei_entity(tree: TreeBuilder, temperatures: int, fans: int, psus: int) -> None:
    boards: list[OID] = [(10 + i,) for i in range(1, temperatures + 1)]

    def board(read: Any) -> Any:
        return lambda index: lambda m: read(m, m.sensor_by_index[index[0]])

    tree.column(f"{STATE_ENTRY}.2", boards, board(lambda m, s: Integer(ENABLED)))
    tree.column(f"{STATE_ENTRY}.5", boards, board(lambda m, s: Integer(CPU_USAGE)))
    tree.column(f"{STATE_ENTRY}.6", boards, board(lambda m, s: Integer(CPU_THRESHOLD)))
    tree.column(f"{STATE_ENTRY}.7", boards, board(lambda m, s: Integer(MEM_USAGE)))
    tree.column(f"{STATE_ENTRY}.11", boards, board(lambda m, s: Integer(m.sensor_value(s))))
    tree.column(f"{STATE_ENTRY}.12", boards, board(lambda m, s: Integer(TEMPERATURE_THRESHOLD)))
    _slot_table(tree, FAN_ENTRY, fans, 20, present=6, state=7)  # normal(1), abnormal(2)
    _slot_table(tree, PWR_ENTRY, psus, 30, present=5, state=6)  # supply(1), notSupply(2)


def _slot_table(
    tree: TreeBuilder, entry: str, count: int, first: int, present: int, state: int
) -> None:
    rows: list[OID] = [(SLOT, n) for n in range(1, count + 1)]

    def unit(read: Any) -> Any:
        return lambda index: lambda m: read(m.sensor_by_index[first + index[1]])

    tree.column(f"{entry}.{present}", rows, unit(lambda s: Integer(PRESENT)))
    tree.column(f"{entry}.{state}", rows, unit(lambda s: Integer(_state(s))))


def _state(sensor: Sensor) -> int:
    return 1 if sensor.ok else 2
