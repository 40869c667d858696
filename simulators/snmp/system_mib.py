"""SNMPv2-MIB system group (1.3.6.1.2.1.1), served by every SNMP device, and the
trap OIDs of SNMPv2-MIB."""

from __future__ import annotations

from typing import Any

from simulators.snmp.mibtree import Integer, ObjectId, OctetString, TimeTicks, TreeBuilder, oid

SYS = "1.3.6.1.2.1.1"
SYS_UPTIME = oid(SYS + ".3.0")
SNMP_TRAP_OID = oid("1.3.6.1.6.3.1.1.4.1.0")
COLD_START = oid("1.3.6.1.6.3.1.1.5.1")
LINK_DOWN = oid("1.3.6.1.6.3.1.1.5.3")
LINK_UP = oid("1.3.6.1.6.3.1.1.5.4")


def uptime_ticks(model: Any) -> int:
    """Hundredths of a second since the device booted (TimeTicks)."""
    return int(model.uptime() * 100) % 2**32


def add_system(tree: TreeBuilder, services: int) -> None:
    tree.scalar(SYS + ".1", lambda m: OctetString(m.device.flavour.descr))
    tree.scalar(
        SYS + ".2", lambda m: ObjectId(m.device.flavour.object_id or "1.3.6.1.4.1.8072.3.2.10")
    )
    tree.scalar(SYS + ".3", lambda m: TimeTicks(uptime_ticks(m)))
    tree.constant(SYS + ".4", OctetString("service desk <noc@example.com>"))
    tree.scalar(SYS + ".5", lambda m: OctetString(m.id))
    tree.scalar(SYS + ".6", lambda m: OctetString(_location(m)))
    tree.constant(SYS + ".7", Integer(services))


def _location(model: Any) -> str:
    device = model.device
    if device.parent is None:
        return "main equipment room"
    port = f" port {device.parent_port}" if device.parent_port else ""
    return f"behind {device.parent}{port}"
