"""MIB modules: compiling them (pysmi) and the names they define, for profiles that
name SNMP objects as ``MODULE::object`` (docs/profiles.md, Names from MIBs)."""
