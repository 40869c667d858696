"""Tests of the SNMP drivers."""
