"""The simulated switches' neighbours as net-snmp reads them: LLDP-MIB, BRIDGE-MIB's
forwarding table and the ARP cache agree with the fleet's parent links."""

from __future__ import annotations

import pytest

from tests.realservers import wait_until
from tests.simulators.conftest import Addresses, SimFleet, walk

pytestmark = pytest.mark.integration

LLDP_LOC = "1.0.8802.1.1.2.1.3"
LLDP_REM = "1.0.8802.1.1.2.1.4.1.1"
LLDP_MAN = "1.0.8802.1.1.2.1.4.2.1"
FDB = "1.3.6.1.2.1.17.4.3.1"
ARP = "1.3.6.1.2.1.4.22.1"
BRIDGE_BASE = "1.3.6.1.2.1.17.1"


def mac_index(value: str) -> str:
    """net-snmp's ``Hex-STRING: 02 1A ...`` -> the OID index ``2.26...``."""
    return ".".join(str(int(octet, 16)) for octet in value.split())


def test_lldp_neighbours_are_the_switches_at_each_end_of_a_parent_link(
    sim: SimFleet, addresses: Addresses
) -> None:
    core = walk(addresses.target("sw-core"), "1.0.8802.1.1.2.1", bulk=True)
    access = walk(addresses.target("sw-acc"), "1.0.8802.1.1.2.1", bulk=True)
    # sw-acc hangs off sw-core's port 2 through its own last port (8).
    assert core[f"{LLDP_REM}.9.0.2.1"] == '"sw-acc"'  # lldpRemSysName
    assert core[f"{LLDP_REM}.7.0.2.1"] == '"Gi1/0/8"'  # lldpRemPortId (interfaceName)
    assert core[f"{LLDP_REM}.5.0.2.1"] == access[f"{LLDP_LOC}.2.0"]  # chassis = its MAC
    assert access[f"{LLDP_REM}.9.0.8.1"] == '"sw-core"'
    assert access[f"{LLDP_LOC}.3.0"] == '"sw-acc"'  # lldpLocSysName
    assert access[f"{LLDP_LOC}.7.1.3.8"] == '"Gi1/0/8"'  # lldpLocPortId
    # The management address of the neighbour, IPv4 (1), 4 octets, in the index.
    assert f"{LLDP_MAN}.3.0.8.1.1.4.127.0.0.1" in access
    assert f"{LLDP_MAN}.3.0.2.1.1.4.127.0.0.2" in core
    rows = {name for name in core if name.startswith(f"{LLDP_REM}.9.")}
    assert rows == {f"{LLDP_REM}.9.0.2.1"}  # only switches speak LLDP here


def test_forwarding_tables_and_arp_place_every_device_behind_its_port(
    sim: SimFleet, addresses: Addresses
) -> None:
    core = addresses.target("sw-core")
    arp = walk(core, ARP, bulk=True)
    # The top switch's ARP cache: the NVR (behind sw-acc, on sw-core's port 2).
    nvr_mac = arp[f"{ARP}.2.2.127.0.0.3"]
    pbx_mac = arp[f"{ARP}.2.{pbx_port(core)}.127.0.0.4"]
    on_core = walk(core, f"{FDB}.2", bulk=True)
    on_access = walk(addresses.target("sw-acc"), f"{FDB}.2", bulk=True)
    assert on_core[f"{FDB}.2.{mac_index(nvr_mac)}"] == "2"
    assert on_access[f"{FDB}.2.{mac_index(pbx_mac)}"] == "8"  # the uplink
    nvr_port = on_access[f"{FDB}.2.{mac_index(nvr_mac)}"]
    assert nvr_port not in ("8", "2")  # an access port of its own
    bridge = walk(core, BRIDGE_BASE, bulk=True)
    assert bridge[f"{BRIDGE_BASE}.2.0"] == "8"  # dot1dBaseNumPorts
    assert bridge[f"{BRIDGE_BASE}.4.1.2.5"] == "5"  # bridge port 5 is ifIndex 5


def pbx_port(core: str) -> int:
    """The port of sw-core the PBX got (the fleet gives the next free one)."""
    aliases = walk(core, "1.3.6.1.2.1.31.1.1.1.18")
    return next(int(name.rsplit(".", 1)[1]) for name, value in aliases.items() if value == '"pbx"')


def test_a_neighbour_is_gone_while_its_link_is_down(sim: SimFleet, addresses: Addresses) -> None:
    core = addresses.target("sw-core")
    sim.client.inject("sw-core", "port_down", {"port": "2"})
    wait_until(lambda: f"{LLDP_REM}.9.0.2.1" not in walk(core, LLDP_REM), 3, "row gone")
    sim.client.clear("sw-core", "port_down", {})
    wait_until(lambda: f"{LLDP_REM}.9.0.2.1" in walk(core, LLDP_REM), 3, "row back")
