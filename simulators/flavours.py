"""Model flavours: the identity strings a simulated device presents.

A flavour changes only what a device says about itself (sysDescr, sysObjectID,
interface names, vendor strings, the vendor's own MIB), never its behaviour. The
vendor strings are illustrative, in the style of the named products; a flavour that
serves a vendor MIB (``vendor_mib``) takes its sysObjectID and OIDs from that MIB as
the vendor publishes it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Flavour:
    name: str
    descr: str
    object_id: str
    manufacturer: str
    model: str
    if_descr: str = "port {n}"  # ifDescr of port n
    if_name: str = "port{n}"  # ifName of port n
    vendor_mib: str = ""  # the vendor MIB it also serves, by module name
    profile: str = ""  # the profile a device of this flavour is read with by default


FLAVOURS: dict[str, dict[str, Flavour]] = {
    "switch": {
        "generic": Flavour(
            "generic",
            "LVGW simulated managed Gigabit Ethernet switch",
            "1.3.6.1.4.1.8072.3.2.10",
            "Generic",
            "GS-24",
        ),
        "cisco-c9200": Flavour(
            "cisco-c9200",
            "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_LITE_IOSXE), "
            "Version 17.9.4, RELEASE SOFTWARE (fc5)",
            "1.3.6.1.4.1.9.1.2896",
            "Cisco",
            "C9200-24P",
            if_descr="GigabitEthernet1/0/{n}",
            if_name="Gi1/0/{n}",
            vendor_mib="CISCO-ENVMON-MIB",  # with CISCO-PROCESS-MIB, CISCO-MEMORY-POOL-MIB
            profile="switch-cisco",
        ),
        "huawei-s5735": Flavour(
            "huawei-s5735",
            "S5735-L24P4S-A1 Huawei Versatile Routing Platform Software VRP (R) software, "
            "Version 5.170 (S5735 V200R022C00SPC500)",
            "1.3.6.1.4.1.2011.2.23.878",  # HUAWEI-MIB lanSw 878: S5735-L24P4S-A1
            "Huawei",
            "S5735-L24P4S-A1",
            if_descr="GigabitEthernet0/0/{n}",
            if_name="GE0/0/{n}",
            vendor_mib="HUAWEI-ENTITY-EXTENT-MIB",
            profile="switch-huawei",
        ),
        "h3c-s5500": Flavour(
            "h3c-s5500",
            "H3C Comware Platform Software, Software Version 5.20 Release 2220P02\r\n"
            "H3C S5500-28C-PWR-EI\r\nCopyright (c) 2004-2013 Hangzhou H3C Tech. Co., Ltd.",
            "1.3.6.1.4.1.25506.1.3",  # HH3C-PRODUCT-ID-MIB hh3c-s5500-28C-PWR-EI
            "H3C",
            "S5500-28C-PWR-EI",
            if_descr="GigabitEthernet1/0/{n}",
            if_name="GE1/0/{n}",
            vendor_mib="HH3C-ENTITY-EXT-MIB",
            profile="switch-h3c",
        ),
    },
    "nvr": {
        "hikvision": Flavour(
            "hikvision",
            "Hikvision DS-7716NI-K4 network video recorder, firmware V4.62.210",
            "1.3.6.1.4.1.50001.1",
            "Hikvision",
            "DS-7716NI-K4",
        ),
        # Synology's DVA3221 (Surveillance Station on DSM): DSM's net-snmp agent answers
        # net-snmp's Linux sysObjectID; Synology's MIBs tell it apart.
        "synology-dva": Flavour(
            "synology-dva",
            "Linux DVA3221 4.4.302+ #72806 SMP x86_64 GNU/Linux synology_denverton_dva3221",
            "1.3.6.1.4.1.8072.3.2.10",
            "Synology",
            "DVA3221",
            vendor_mib="SYNOLOGY-SYSTEM-MIB",
            profile="nvr-synology",
        ),
    },
    "pbx": {
        "asterisk": Flavour(
            "asterisk",
            "Linux pbx 6.1.0-18-amd64 #1 SMP Debian x86_64 (Asterisk 18.10.0)",
            "1.3.6.1.4.1.8072.3.2.10",
            "Digium",
            "Asterisk 18.10.0",
        ),
        # FreeSWITCH's mod_snmp is an AgentX subagent: the host's snmpd answers
        # net-snmp's Linux sysObjectID and the host's sysDescr.
        "freeswitch": Flavour(
            "freeswitch",
            "Linux pbx 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 x86_64",
            "1.3.6.1.4.1.8072.3.2.10",
            "SignalWire",
            "FreeSWITCH 1.10.11",
            vendor_mib="FREESWITCH-MIB",
            profile="pbx-freeswitch",
        ),
    },
    "ups": {
        "generic": Flavour(
            "generic",
            "LVGW simulated UPS 3000 VA online double conversion, RFC 1628 agent",
            "1.3.6.1.2.1.33",
            "Generic",
            "UPS-3000",
        ),
        # PowerNet-MIB 4.5.2: smartUPS3000 is products(1).system(3).smartUPS(2).12.
        "apc-smart-ups": Flavour(
            "apc-smart-ups",
            "APC Web/SNMP Management Card (LVGW simulated Smart-UPS 3000)",
            "1.3.6.1.4.1.318.1.3.2.12",
            "APC",
            "Smart-UPS 3000",
            vendor_mib="PowerNet-MIB",
            profile="ups-apc-powernet",
        ),
    },
    "alarm_panel": {
        "generic": Flavour(
            "generic", "Intrusion alarm panel with Modbus bridge", "", "Generic", "AP-16"
        ),
    },
}

DEFAULT_FLAVOUR = {
    "switch": "generic",
    "nvr": "hikvision",
    "pbx": "asterisk",
    "ups": "generic",
    "alarm_panel": "generic",
}
