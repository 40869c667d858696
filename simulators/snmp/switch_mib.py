"""What a simulated switch serves: system group, IF-MIB ifTable and ifXTable,
ENTITY-MIB names and ENTITY-SENSOR-MIB sensors, POWER-ETHERNET-MIB, its neighbours
(BRIDGE-MIB, LLDP-MIB, the ARP cache: neighbours_mib.py); and its traps.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from simulators.models.events import Booted, Event, LinkChanged
from simulators.models.switch import AVERAGE_FRAME, POE_BUDGET_WATTS, Port, Sensor, SwitchModel
from simulators.snmp.cisco_mibs import add_cisco_mibs
from simulators.snmp.h3c_entity_mib import add_h3c_entity
from simulators.snmp.huawei_entity_mib import add_huawei_entity
from simulators.snmp.mibtree import (
    OID,
    Gauge32,
    Integer,
    MibTree,
    OctetString,
    TimeTicks,
    TreeBuilder,
    Unsigned32,
    counter32,
    counter64,
    oid,
)
from simulators.snmp.neighbours_mib import add_neighbours
from simulators.snmp.system_mib import COLD_START, LINK_DOWN, LINK_UP, add_system, uptime_ticks

IF_NUMBER = "1.3.6.1.2.1.2.1"
IF_ENTRY = "1.3.6.1.2.1.2.2.1"
IFX_ENTRY = "1.3.6.1.2.1.31.1.1.1"
ENT_PHYSICAL_ENTRY = "1.3.6.1.2.1.47.1.1.1.1"
ENT_SENSOR_ENTRY = "1.3.6.1.2.1.99.1.1.1"
PETH_PORT_ENTRY = "1.3.6.1.2.1.105.1.1.1"
PETH_MAIN_ENTRY = "1.3.6.1.2.1.105.1.3.1.1"

Notification = tuple[OID, list[tuple[OID, Any]]]
# A flavour's vendor MIB (Flavour.vendor_mib) -> what adds its objects to the tree.
VENDOR_MIBS = {
    "HUAWEI-ENTITY-EXTENT-MIB": add_huawei_entity,
    "CISCO-ENVMON-MIB": add_cisco_mibs,
    "HH3C-ENTITY-EXT-MIB": add_h3c_entity,
}


def tree_for(model: SwitchModel) -> MibTree:
    spec = model.device.spec
    vendor_mib = model.device.flavour.vendor_mib
    return _tree(spec.ports, spec.temperatures, spec.fans, spec.psus, spec.poe, vendor_mib)


@functools.cache
def _tree(
    ports: int, temperatures: int, fans: int, psus: int, poe: bool, vendor_mib: str
) -> MibTree:
    tree = TreeBuilder()
    add_system(tree, services=2 | 4)  # datalink and internet layers
    rows: list[OID] = [(n,) for n in range(1, ports + 1)]
    tree.constant(IF_NUMBER, Integer(ports))
    _if_table(tree, rows)
    _ifx_table(tree, rows)
    sensors: list[OID] = [(10 + i,) for i in range(1, temperatures + 1)]
    sensors += [(20 + i,) for i in range(1, fans + 1)] + [(30 + i,) for i in range(1, psus + 1)]
    entities: list[OID] = [(1,), *sensors]
    _entities(tree, entities)
    _sensors(tree, sensors)
    if poe:
        _poe(tree, rows)
    vendor = VENDOR_MIBS.get(vendor_mib)
    if vendor is not None:
        vendor(tree, temperatures, fans, psus)
    add_neighbours(tree, ports)
    return tree.freeze()


def _port_getter(column: Any) -> Any:
    def factory(index: OID) -> Any:
        n = index[0]
        return lambda m: column(m, m.ports[n - 1])

    return factory


def _if_table(tree: TreeBuilder, rows: list[OID]) -> None:
    def col(number: int, read: Any) -> None:
        tree.column(f"{IF_ENTRY}.{number}", rows, _port_getter(read))

    col(1, lambda m, p: Integer(p.index))
    col(2, lambda m, p: OctetString(m.device.flavour.if_descr.format(n=p.index)))
    col(3, lambda m, p: Integer(6))  # ethernetCsmacd
    col(4, lambda m, p: Integer(1500))
    col(5, lambda m, p: Gauge32(min(p_speed(m, p) * 1_000_000, 2**32 - 1)))
    col(6, lambda m, p: OctetString(_mac(m.id, p.index)))
    col(7, lambda m, p: Integer(1 if p.admin_up else 2))
    col(8, lambda m, p: Integer(1 if p.oper_up else 2))
    col(9, lambda m, p: TimeTicks(_since_boot(m, p.last_change)))
    col(10, lambda m, p: counter32(p.in_octets.at(m.now)))
    col(11, lambda m, p: counter32(p.in_octets.at(m.now) / AVERAGE_FRAME))
    col(13, lambda m, p: counter32(0))
    col(14, lambda m, p: counter32(p.in_errors.at(m.now)))
    col(16, lambda m, p: counter32(p.out_octets.at(m.now)))
    col(17, lambda m, p: counter32(p.out_octets.at(m.now) / AVERAGE_FRAME))
    col(19, lambda m, p: counter32(0))
    col(20, lambda m, p: counter32(p.out_errors.at(m.now)))


def _ifx_table(tree: TreeBuilder, rows: list[OID]) -> None:
    def col(number: int, read: Any) -> None:
        tree.column(f"{IFX_ENTRY}.{number}", rows, _port_getter(read))

    col(1, lambda m, p: OctetString(m.device.flavour.if_name.format(n=p.index)))
    col(6, lambda m, p: counter64(p.in_octets.at(m.now)))
    col(7, lambda m, p: counter64(p.in_octets.at(m.now) / AVERAGE_FRAME))
    col(10, lambda m, p: counter64(p.out_octets.at(m.now)))
    col(11, lambda m, p: counter64(p.out_octets.at(m.now) / AVERAGE_FRAME))
    col(14, lambda m, p: Integer(1))  # ifLinkUpDownTrapEnable: enabled
    col(15, lambda m, p: Gauge32(p_speed(m, p)))
    col(17, lambda m, p: Integer(1))  # ifConnectorPresent: true
    col(18, lambda m, p: OctetString(p.alias))


def p_speed(model: SwitchModel, port: Port) -> int:
    """Mbit/s: 10G towards other switches, 1G elsewhere."""
    return 10_000 if port.alias.startswith("uplink") or port.index in model.switch_ports else 1000


def _since_boot(model: SwitchModel, when: float) -> int:
    return max(0, int((when - model.boot_at) * 100))


def _mac(device_id: str, port: int) -> bytes:
    digest = hashlib.sha1(device_id.encode()).digest()
    return bytes([0x02, digest[0], digest[1], digest[2], port >> 8 & 0xFF, port & 0xFF])


def _entity_getter(read: Any) -> Any:
    def factory(index: OID) -> Any:
        n = index[0]
        if n == 1:
            return lambda m: read(m, None)
        return lambda m: read(m, m.sensor_by_index[n])

    return factory


def _entities(tree: TreeBuilder, rows: list[OID]) -> None:
    """entPhysicalDescr, entPhysicalClass, entPhysicalName: what each sensor is."""

    def descr(m: SwitchModel, s: Sensor | None) -> Any:
        return OctetString(m.device.flavour.model if s is None else s.name)

    def klass(m: SwitchModel, s: Sensor | None) -> Any:
        return Integer(3 if s is None else s.klass)  # chassis 3

    def name(m: SwitchModel, s: Sensor | None) -> Any:
        return OctetString("Chassis" if s is None else s.name)

    tree.column(f"{ENT_PHYSICAL_ENTRY}.2", rows, _entity_getter(descr))
    tree.column(f"{ENT_PHYSICAL_ENTRY}.5", rows, _entity_getter(klass))
    tree.column(f"{ENT_PHYSICAL_ENTRY}.7", rows, _entity_getter(name))


def _sensors(tree: TreeBuilder, rows: list[OID]) -> None:
    def col(number: int, read: Any) -> None:
        tree.column(f"{ENT_SENSOR_ENTRY}.{number}", rows, _entity_getter(read))

    col(1, lambda m, s: Integer(s.type))
    col(2, lambda m, s: Integer(9))  # scale: units
    col(3, lambda m, s: Integer(0))  # precision
    col(4, lambda m, s: Integer(m.sensor_value(s)))
    col(5, lambda m, s: Integer(1 if s.ok else 3))  # ok / nonoperational
    col(6, lambda m, s: OctetString(s.units))
    col(7, lambda m, s: TimeTicks(uptime_ticks(m)))
    col(8, lambda m, s: Unsigned32(1000))  # milliseconds between updates


def _poe(tree: TreeBuilder, rows: list[OID]) -> None:
    poe_rows = [(1, *row) for row in rows]  # group 1, port n

    def col(number: int, read: Any) -> None:
        def factory(index: OID) -> Any:
            n = index[1]
            return lambda m: read(m, m.ports[n - 1])

        tree.column(f"{PETH_PORT_ENTRY}.{number}", poe_rows, factory)

    col(3, lambda m, p: Integer(1 if p.poe_capable and p.poe_enabled else 2))
    col(6, lambda m, p: Integer(p.poe_status() if p.poe_capable else 1))
    col(7, lambda m, p: Integer(3))  # priority low
    col(10, lambda m, p: Integer(4 if p.poe_status() == 3 else 1))  # class3 / class0
    main = [(1,)]
    tree.column(f"{PETH_MAIN_ENTRY}.2", main, lambda _i: lambda m: Gauge32(POE_BUDGET_WATTS))
    tree.column(f"{PETH_MAIN_ENTRY}.3", main, lambda _i: lambda m: Integer(1))  # on
    tree.column(
        f"{PETH_MAIN_ENTRY}.4", main, lambda _i: lambda m: Gauge32(round(m.poe_consumption()))
    )


def notifications(model: SwitchModel, event: Event) -> list[Notification]:
    if isinstance(event, Booted):
        return [(COLD_START, [])]
    if isinstance(event, LinkChanged):
        port = model.port(event.port)
        n = event.port
        varbinds = [
            (oid(f"{IF_ENTRY}.1.{n}"), Integer(n)),
            (oid(f"{IF_ENTRY}.7.{n}"), Integer(1 if port.admin_up else 2)),
            (oid(f"{IF_ENTRY}.8.{n}"), Integer(1 if port.oper_up else 2)),
        ]
        return [(LINK_UP if event.up else LINK_DOWN, varbinds)]
    return []
