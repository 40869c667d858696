"""The SNMP side of the simulators: one pysnmp engine serving every SNMP device."""
