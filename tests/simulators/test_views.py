"""What each simulated SNMP device exposes to a walk from the root: its own subtrees
only, never pysnmp's engine, USM or VACM tables; the same over v2c and v3 authPriv."""

from __future__ import annotations

import pytest

from tests.simulators.conftest import Addresses, SimFleet, walk

pytestmark = pytest.mark.integration

SYSTEM = "1.3.6.1.2.1.1"
HOST = "1.3.6.1.2.1.25"  # HOST-RESOURCES-MIB: hrSystemDate only
EXPECTED = {
    # BRIDGE-MIB (17) on every switch; the ARP cache (IP-MIB, 4) at the top of the tree
    "sw-core": {SYSTEM, HOST, "1.3.6.1.2.1.2", "1.3.6.1.2.1.4", "1.3.6.1.2.1.17",
                "1.3.6.1.2.1.31", "1.3.6.1.2.1.47", "1.3.6.1.2.1.99"},
    # a cisco-c9200: Cisco's environment, CPU and memory pools (enterprise 9) besides
    "sw-acc": {SYSTEM, HOST, "1.3.6.1.2.1.2", "1.3.6.1.2.1.17", "1.3.6.1.2.1.31",
               "1.3.6.1.2.1.47", "1.3.6.1.2.1.99", "1.3.6.1.2.1.105", "1.3.6.1.4.1.9"},
    "nvr": {SYSTEM, HOST, "1.3.6.1.4.1.50001"},
    "pbx": {SYSTEM, HOST, "1.3.6.1.4.1.22736"},
    "ups": {SYSTEM, HOST, "1.3.6.1.2.1.33"},
}  # fmt: skip


def subtree(name: str) -> str:
    """1.3.6.1.2.1.X (a MIB-2 group) or 1.3.6.1.4.1.X (an enterprise)."""
    return ".".join(name.split(".")[:7])


@pytest.mark.parametrize("device", sorted(EXPECTED))
@pytest.mark.parametrize("v3", [False, True], ids=["v2c", "v3-authpriv"])
def test_walk_from_root_shows_only_the_device_subtrees(
    sim: SimFleet, addresses: Addresses, device: str, v3: bool
) -> None:
    everything = walk(addresses.target(device), "1.3.6.1", v3=v3, bulk=True)
    assert {subtree(name) for name in everything} == EXPECTED[device]
    assert not any(name.startswith(("1.3.6.1.6.", "1.3.6.1.4.1.20408")) for name in everything)
