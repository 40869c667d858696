"""Parts of the SNMP trap receiver (``drivers.snmp.traps``): its data types and value conversion."""
