"""Simulated low-voltage devices (switches, NVRs, PBXs, UPSes, alarm panels) that
speak real SNMP and Modbus, with faults injected at runtime. See docs/simulators.md.

Independent of ``gateway`` and ``drivers`` by design: nothing here imports them.
"""
