"""Tests of the SNMP trap and inform receiver."""
