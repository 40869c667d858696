"""What a simulated switch knows of its neighbours, as a real switch serves it:

- BRIDGE-MIB (RFC 4188, dot1dBridge 1.3.6.1.2.1.17): dot1dBaseBridgeAddress,
  dot1dBaseNumPorts, dot1dBaseType, dot1dBasePortTable (bridge port n is ifIndex n)
  and the forwarding table dot1dTpFdbTable (MAC -> bridge port, status learned);
- LLDP-MIB (IEEE 802.1AB-2005, lldpMIB 1.0.8802.1.1.2): the local system
  (lldpLocChassisId as a MAC, lldpLocSysName, lldpLocPortTable with ifNames) and
  the remote systems seen on each port whose link is up (lldpRemTable,
  lldpRemManAddrTable with the neighbour's IPv4 management address);
- IP-MIB ipNetToMediaTable (RFC 4293, 1.3.6.1.2.1.4.22.1): the ARP cache of a switch
  at the top of a tree (the site's router side), which ties learned MACs to addresses.

The contents come from the fleet's ``parent:`` links (simulators/topology.py).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from simulators.models.switch import SwitchModel
from simulators.snmp.mibtree import (
    OID,
    Integer,
    IpAddress,
    ObjectId,
    OctetString,
    TreeBuilder,
    oid,
)
from simulators.topology import Neighbour, base_mac

BRIDGE = "1.3.6.1.2.1.17"
BASE_PORT_ENTRY = f"{BRIDGE}.1.4.1"
FDB_ENTRY = oid(f"{BRIDGE}.4.3.1")
LLDP = "1.0.8802.1.1.2.1"
LOC = f"{LLDP}.3"
LOC_PORT_ENTRY = f"{LOC}.7.1"
REM_ENTRY = oid(f"{LLDP}.4.1.1")
REM_MAN_ADDR_ENTRY = oid(f"{LLDP}.4.2.1")
ARP_ENTRY = oid("1.3.6.1.2.1.4.22.1")

MAC_ADDRESS = 4  # LldpChassisIdSubtype macAddress
INTERFACE_NAME = 5  # LldpPortIdSubtype interfaceName
BRIDGE_CAPABILITY = OctetString(b"\x20")  # LldpSystemCapabilitiesMap: bridge(2)
IPV4 = 1  # IANA AddressFamilyNumbers ipV4 (lldpRemManAddrSubtype)
IF_INDEX = 2  # lldpRemManAddrIfSubtype ifIndex
LEARNED, DYNAMIC = 3, 3  # dot1dTpFdbStatus learned; ipNetToMediaType dynamic

Rows = list[tuple[OID, Any]]


def add_neighbours(tree: TreeBuilder, ports: int) -> None:
    rows: list[OID] = [(n,) for n in range(1, ports + 1)]
    tree.scalar(f"{BRIDGE}.1.1", lambda m: OctetString(base_mac(m.id)))
    tree.constant(f"{BRIDGE}.1.2", Integer(ports))  # dot1dBaseNumPorts
    tree.constant(f"{BRIDGE}.1.3", Integer(2))  # dot1dBaseType: transparent-only
    tree.column(f"{BASE_PORT_ENTRY}.1", rows, _per_port(lambda m, n: Integer(n)))
    tree.column(f"{BASE_PORT_ENTRY}.2", rows, _per_port(lambda m, n: Integer(n)))  # ifIndex
    tree.dynamic(FDB_ENTRY, _fdb_rows)
    tree.dynamic(ARP_ENTRY, _arp_rows)
    tree.constant(f"{LOC}.1", Integer(MAC_ADDRESS))
    tree.scalar(f"{LOC}.2", lambda m: OctetString(base_mac(m.id)))
    tree.scalar(f"{LOC}.3", lambda m: OctetString(m.id))
    tree.scalar(f"{LOC}.4", lambda m: OctetString(m.device.flavour.descr))
    tree.constant(f"{LOC}.5", BRIDGE_CAPABILITY)
    tree.constant(f"{LOC}.6", BRIDGE_CAPABILITY)
    tree.column(f"{LOC_PORT_ENTRY}.2", rows, _per_port(lambda m, n: Integer(INTERFACE_NAME)))
    tree.column(f"{LOC_PORT_ENTRY}.3", rows, _per_port(lambda m, n: OctetString(_if_name(m, n))))
    tree.column(f"{LOC_PORT_ENTRY}.4", rows, _per_port(lambda m, n: OctetString(_if_descr(m, n))))
    tree.dynamic(REM_ENTRY, _remote_rows)
    tree.dynamic(REM_MAN_ADDR_ENTRY, _management_rows)


def _per_port(read: Callable[[Any, int], Any]) -> Callable[[OID], Callable[[Any], Any]]:
    """The getter factory of a column indexed by port number."""

    def factory(index: OID) -> Callable[[Any], Any]:
        n = index[0]
        return lambda m: read(m, n)

    return factory


def _if_name(model: SwitchModel, n: int) -> str:
    return str(model.device.flavour.if_name.format(n=n))


def _if_descr(model: SwitchModel, n: int) -> str:
    return str(model.device.flavour.if_descr.format(n=n))


def _cached(model: SwitchModel, name: str, build: Callable[[SwitchModel], Rows]) -> Rows:
    """Rows that never change while the fleet runs, encoded once per switch."""
    rows: Rows | None = model.view.encoded.get(name)
    if rows is None:
        rows = model.view.encoded[name] = build(model)
    return rows


def _fdb_rows(model: SwitchModel) -> Rows:
    def build(m: SwitchModel) -> Rows:
        learned = sorted(m.view.learned.items())
        out: Rows = []
        for column, value in ((1, OctetString), (2, Integer), (3, Integer)):
            for mac, port in learned:
                raw = {1: mac, 2: port, 3: LEARNED}[column]
                out.append(((*FDB_ENTRY, column, *mac), value(raw)))
        return out

    return _cached(model, "fdb", build)


def _arp_rows(model: SwitchModel) -> Rows:
    def build(m: SwitchModel) -> Rows:
        entries = sorted(
            (if_index, tuple(ipaddress.IPv4Address(address).packed), mac, address)
            for address, (mac, if_index) in m.view.arp.items()
        )
        out: Rows = []
        for column in (1, 2, 3, 4):
            for if_index, quad, mac, address in entries:
                value = {
                    1: Integer(if_index),
                    2: OctetString(mac),
                    3: IpAddress(address),
                    4: Integer(DYNAMIC),
                }[column]
                out.append(((*ARP_ENTRY, column, if_index, *quad), value))
        return out

    return _cached(model, "arp", build)


def _seen(model: SwitchModel) -> list[tuple[int, Neighbour]]:
    """The neighbours on ports whose link is up (LLDP frames arrive), by port."""
    neighbours = sorted(model.view.neighbours.items())
    return [(port, n) for port, n in neighbours if model.port_passes(port)]


def _remote_rows(model: SwitchModel) -> Rows:
    seen = _seen(model)
    out: Rows = []
    columns: dict[int, Callable[[Neighbour], Any]] = {
        4: lambda n: Integer(MAC_ADDRESS),
        5: lambda n: OctetString(n.chassis),
        6: lambda n: Integer(INTERFACE_NAME),
        7: lambda n: OctetString(n.port_name),
        8: lambda n: OctetString(n.port_descr),
        9: lambda n: OctetString(n.id),
        10: lambda n: OctetString(n.descr),
        11: lambda n: BRIDGE_CAPABILITY,
        12: lambda n: BRIDGE_CAPABILITY,
    }
    for column, read in columns.items():
        for port, neighbour in seen:
            # INDEX {lldpRemTimeMark, lldpRemLocalPortNum, lldpRemIndex}
            out.append(((*REM_ENTRY, column, 0, port, 1), read(neighbour)))
    return out


def _management_rows(model: SwitchModel) -> Rows:
    out: Rows = []
    seen = _seen(model)
    for column in (3, 4, 5):
        for port, neighbour in seen:
            quad = tuple(ipaddress.IPv4Address(neighbour.address).packed)
            # ... lldpRemIndex, lldpRemManAddrSubtype, lldpRemManAddr (length first)
            index = (0, port, 1, IPV4, len(quad), *quad)
            value = {3: Integer(IF_INDEX), 4: Integer(0), 5: ObjectId("0.0")}[column]
            out.append(((*REM_MAN_ADDR_ENTRY, column, *index), value))
    return out
