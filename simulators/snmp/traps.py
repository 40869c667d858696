"""SNMPv2c traps, encoded with pysnmp's protocol API and sent from the device's own
socket, so that a receiver sees the device's address as the source."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from pyasn1.codec.ber import encoder
from pysnmp.proto.api import v2c

from simulators.snmp.mibtree import OID, ObjectId, TimeTicks
from simulators.snmp.system_mib import SNMP_TRAP_OID, SYS_UPTIME

_request_ids = itertools.count(1)


def encode_v2c_trap(
    community: str, uptime_ticks: int, trap_oid: OID, varbinds: Sequence[tuple[OID, Any]]
) -> bytes:
    """A v2c SNMPv2-Trap-PDU: sysUpTime.0, snmpTrapOID.0, then the trap's objects."""
    pdu = v2c.TrapPDU()
    v2c.apiTrapPDU.set_defaults(pdu)
    v2c.apiTrapPDU.set_request_id(pdu, next(_request_ids) % 2**31)
    v2c.apiTrapPDU.set_varbinds(
        pdu,
        [(SYS_UPTIME, TimeTicks(uptime_ticks)), (SNMP_TRAP_OID, ObjectId(trap_oid)), *varbinds],
    )
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, community)
    v2c.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))
