"""SNMPv2-MIB system group (1.3.6.1.2.1.1), served by every SNMP device, and the
trap OIDs of SNMPv2-MIB."""

from __future__ import annotations

import struct
import time
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


def app_ticks(model: Any) -> int:
    """Hundredths of a second since the application on the host (a PBX's software)
    started: with the host, or again after it stopped (TimeTicks)."""
    return int(model.app_uptime() * 100) % 2**32


HR_SYSTEM_DATE = "1.3.6.1.2.1.25.1.2"


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
    # HOST-RESOURCES-MIB hrSystemDate: the device's wall clock, as DateAndTime in UTC.
    tree.scalar(HR_SYSTEM_DATE, lambda m: OctetString(date_and_time(m.wall_clock())))


def date_and_time(unix: float) -> bytes:
    """SNMPv2-TC DateAndTime, 11 octets with the UTC offset (+00:00)."""
    t = time.gmtime(unix)
    deci = int((unix % 1) * 10)
    return struct.pack(
        ">HBBBBBBcBB", t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, deci,
        b"+", 0, 0,
    )  # fmt: skip


def _location(model: Any) -> str:
    device = model.device
    if device.parent is None:
        return "main equipment room"
    port = f" port {device.parent_port}" if device.parent_port else ""
    return f"behind {device.parent}{port}"
