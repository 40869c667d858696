"""Discovery's pieces in-process: the scope and its guard, the pacing, the links
proposed from LLDP or from the forwarding tables alone, and a draft that a device's
own text cannot break."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import yaml

from drivers.snmp import FakeSnmpClient, SnmpTarget
from drivers.snmp.pacing import Pacer
from gateway.config.match import MatchRule
from gateway.discover.classify import Chosen, Identity
from gateway.discover.draft import Sweep, render, safe
from gateway.discover.links import propose
from gateway.discover.probe import Credential, Found, LldpNeighbour, Neighbours
from gateway.discover.scope import (
    OutOfScope,
    Scope,
    ScopedClient,
    ScopeError,
    parse_networks,
    parse_ports,
)


def test_ports_and_ranges_parse_and_a_large_range_needs_yes() -> None:
    assert parse_ports("161") == (161,)
    assert parse_ports("1161,1162, 20000-20002") == (1161, 1162, 20000, 20001, 20002)
    for bad in ("0", "70000", "x", "20-10", "1-5000"):
        with pytest.raises(ScopeError):
            parse_ports(bad)
    with pytest.raises(ScopeError, match="CIDR"):
        parse_networks(["10.0.0.0/33"])
    assert Scope(parse_networks(["192.0.2.0/24"]), (161,)).size == 254
    assert Scope(parse_networks(["192.0.2.7/32"]), (161,)).addresses() == ["192.0.2.7"]
    big = Scope(parse_networks(["10.0.0.0/21"]), (161,))
    with pytest.raises(ScopeError, match="give --yes"):
        big.check_size(allow_large=False)
    big.check_size(allow_large=True)
    Scope(parse_networks(["10.0.0.0/22"]), (161,)).check_size(allow_large=False)
    with pytest.raises(ScopeError, match="at most 65536"):
        Scope(parse_networks(["10.0.0.0/15"]), (161,)).check_size(allow_large=True)


async def test_the_guard_refuses_an_address_or_port_outside_before_sending() -> None:
    fake = FakeSnmpClient({("192.0.2.1", 161): {"1.3.6.1.2.1.1.5.0": b"a"}})
    guarded = ScopedClient(fake, Scope(parse_networks(["192.0.2.0/30"]), (161,)))
    assert await guarded.get(SnmpTarget("192.0.2.1"), ["1.3.6.1.2.1.1.5.0"])
    for target in (SnmpTarget("192.0.2.9"), SnmpTarget("192.0.2.1", 162), SnmpTarget("a.b")):
        with pytest.raises(OutOfScope):
            await guarded.walk(target, ["1.3.6.1.2.1.1"])
    assert [call.target.host for call in fake.calls] == ["192.0.2.1"]


async def test_the_pacer_spaces_sends() -> None:
    pacer = Pacer(100.0)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for _ in range(11):
        await pacer.wait()
    assert loop.time() - start >= 0.095  # 10 gaps of 10 ms
    pacer.charge()
    assert pacer.sent == 12


MAC = {name: bytes([2, 0, 0, 0, 0, n]) for n, name in enumerate(["core", "a", "b", "nvr", "ups"])}
PUBLIC = Credential("v2c community #1", "2c", "public", site_section={"version": "2c"})


def found(name: str, address: str, **neighbours: object) -> Found:
    own = {MAC[name]} if name in ("core", "a", "b") else set()
    return Found(
        address, 161, PUBLIC, Identity("1.3.6.1.4.1.9.1.1", "x", name),
        Neighbours(own_ids=own, **neighbours),  # type: ignore[arg-type]
    )  # fmt: skip


def site(lldp: bool) -> list[Found]:
    """core (ARP cache) - port 1 - a (uplink 8) ; core - port 2 - b ; nvr on a port 3,
    ups on core port 5."""
    arp = {
        "10.0.0.2": MAC["a"],
        "10.0.0.3": MAC["b"],
        "10.0.0.4": MAC["nvr"],
        "10.0.0.5": MAC["ups"],
    }
    core_lldp = [LldpNeighbour(1, MAC["a"], b"Gi8", "a", ("10.0.0.2",)),
                 LldpNeighbour(2, b"", b"Gi8", "b", ())] if lldp else []  # fmt: skip
    a_lldp = [LldpNeighbour(8, MAC["core"], b"Gi1", "core", ("10.0.0.1",))] if lldp else []
    return [
        found("core", "10.0.0.1", arp=arp, lldp=core_lldp,
              fdb={MAC["a"]: 1, MAC["nvr"]: 1, MAC["b"]: 2, MAC["ups"]: 5}),
        found("a", "10.0.0.2", lldp=a_lldp,
              fdb={MAC["core"]: 8, MAC["b"]: 8, MAC["ups"]: 8, MAC["nvr"]: 3}),
        found("b", "10.0.0.3", fdb={MAC["core"]: 8, MAC["a"]: 8, MAC["nvr"]: 8, MAC["ups"]: 8}),
        found("nvr", "10.0.0.4"),
        found("ups", "10.0.0.5"),
    ]  # fmt: skip


@pytest.mark.parametrize("lldp", [True, False], ids=["lldp", "forwarding-tables-only"])
def test_parents_and_the_core_from_lldp_or_from_forwarding_tables_alone(lldp: bool) -> None:
    devices = site(lldp)
    switches = [("10.0.0.1", 161), ("10.0.0.2", 161), ("10.0.0.3", 161)]
    links = propose(devices, switches)
    assert links.core == ("10.0.0.1", 161)
    parents = {child[0]: parent[0] for child, (parent, _) in links.parents.items()}
    assert parents == {
        "10.0.0.2": "10.0.0.1", "10.0.0.3": "10.0.0.1",
        "10.0.0.4": "10.0.0.2", "10.0.0.5": "10.0.0.1",
    }  # fmt: skip
    how = links.parents[("10.0.0.4", 161)][1]
    assert how == "forwarding table: 02:00:00:00:00:03 on a port 3"


def test_a_device_no_switch_learned_gets_no_parent_and_the_reason() -> None:
    devices = [*site(True), found("ups", "10.0.0.9")]
    links = propose(devices, [("10.0.0.1", 161), ("10.0.0.2", 161), ("10.0.0.3", 161)])
    assert ("10.0.0.9", 161) not in links.parents
    assert "MAC address is unknown" in links.no_parent[("10.0.0.9", 161)]


def test_a_devices_own_text_cannot_break_the_draft() -> None:
    evil = "x\n- id: injected\n  kind: switch\r\u2028#"
    assert "\n" not in safe(evil) and "\u2028" not in safe(evil)
    rule = MatchRule(answers=["1.3.6.1.2.1.33.1.1.1.0"])
    device = Found("10.0.0.5", 161, PUBLIC, Identity("1.3.6.1.4.1.1", evil, evil), Neighbours())
    sweep = Sweep(["10.0.0.0/29"], [161], ["v2c community #1"], [device],
                  {("10.0.0.5", 161): Chosen("ups-rfc1628", "ups", rule)}, [],
                  propose([device], []), dt.datetime.now(dt.UTC), 1.0, 3)  # fmt: skip
    draft = yaml.safe_load(render(sweep, "s"))
    assert [d["id"] for d in draft["devices"]] == ["x-id-injected-kind-switch"]
