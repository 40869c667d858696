"""The protocols the gateway speaks, behind one registry (``registry.py``).

Each protocol is a package here (``snmp/``, ``modbus/``) with its driver, the reader
that maps its values to readings through a device's profile, and optionally a push
source; ``registry.PROTOCOLS`` lists them and ``registry.Drivers`` builds their
drivers, once per agent.
"""
