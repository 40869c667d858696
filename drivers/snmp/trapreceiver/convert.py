"""From pysnmp's notification varbinds to the driver's plain values (drivers.snmp.base).

SNMPv1 traps reach here already in SNMPv2 form (pysnmp applies RFC 3584 section 3.1:
``enterprise.0.specific`` or the standard ``snmpTraps`` OID as the trap OID). RFC 3584
appends snmpTrapAddress.0, snmpTrapCommunity.0 and snmpTrapEnterprise.0 *after* the
v1 varbinds; pysnmp puts them first, so they are moved back, and snmpTrapCommunity.0
is left out: the community is already in ``community_or_user``, and keeping it out
of the varbinds keeps it out of everything built from them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pyasn1.type import univ
from pysnmp.proto import rfc1902

from drivers.snmp.base import NO_SUCH, SnmpValue, VarBind

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SNMP_TRAP_OID = "1.3.6.1.6.3.1.1.4.1.0"
SNMP_TRAP_ADDRESS = "1.3.6.1.6.3.18.1.3.0"
SNMP_TRAP_COMMUNITY = "1.3.6.1.6.3.18.1.4.0"
SNMP_TRAP_ENTERPRISE = "1.3.6.1.6.3.1.1.4.3.0"

_RFC3584_EXTRAS = (SNMP_TRAP_ADDRESS, SNMP_TRAP_COMMUNITY, SNMP_TRAP_ENTERPRISE)
_IP_ADDRESS_TAG = rfc1902.IpAddress.tagSet


def to_python(value: Any) -> SnmpValue:
    """A pysnmp value as the driver convention's plain Python value."""
    if isinstance(value, univ.Null):  # also noSuchObject, noSuchInstance, endOfMibView
        return NO_SUCH
    if value.tagSet == _IP_ADDRESS_TAG:  # v1 and v2 IpAddress are different classes
        return ".".join(str(octet) for octet in value.asOctets())
    if isinstance(value, univ.Integer):
        return int(value)
    if isinstance(value, univ.OctetString):
        return bytes(value.asOctets())
    if isinstance(value, univ.ObjectIdentifier):
        return str(value)
    raise TypeError(f"unsupported SNMP value type {type(value).__name__}")


def split_notification(
    raw: Iterable[tuple[Any, Any]], from_v1: bool
) -> tuple[str, int, tuple[VarBind, ...]]:
    """(trap OID, uptime in ticks, the other varbinds); ValueError if it is no notification."""
    varbinds = [(str(oid), to_python(value)) for oid, value in raw]
    if len(varbinds) < 2 or varbinds[0][0] != SYS_UPTIME or varbinds[1][0] != SNMP_TRAP_OID:
        raise ValueError("the first varbinds are not sysUpTime.0 and snmpTrapOID.0")
    uptime, trap_oid = varbinds[0][1], varbinds[1][1]
    if not isinstance(uptime, int) or not isinstance(trap_oid, str):
        raise ValueError("sysUpTime.0 or snmpTrapOID.0 has the wrong type")
    rest = varbinds[2:]
    if from_v1 and tuple(oid for oid, _ in rest[:3]) == _RFC3584_EXTRAS:
        address, _community, enterprise = rest[:3]
        rest = [*rest[3:], address, enterprise]
    return trap_oid, uptime, tuple(rest)
