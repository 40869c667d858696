"""`lvgw discover`: probe address ranges over SNMP, recognise devices by the profiles'
``match:`` rules, propose parent links from LLDP-MIB and BRIDGE-MIB, and write a
commented draft site file (docs/onboarding.md)."""
