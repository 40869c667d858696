"""SNMP (v1, v2c, v3): one shared client for every device, traps as the push source
(the trap receiver, and pysnmp with it, loaded when the site file turns it on)."""

from gateway.config.protocols.snmp import SNMP
from gateway.protocols.base import ProtocolEntry
from gateway.protocols.snmp.driver import SnmpShared
from gateway.protocols.snmp.traps import trap_source

ENTRY = ProtocolEntry(SNMP, open_driver=SnmpShared, push_source=trap_source)

__all__ = ["ENTRY"]
