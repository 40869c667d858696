"""Storms: many devices down together become one root-cause condition."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.correlate import GATEWAY, GATEWAY_NETWORK_DOWN, SEGMENT_DOWN, Correlator, StormPolicy
from tests.correlate.kit import UNREACHABLE, FakeProbe, at, brief, site_config, unreachable

SEGMENT = {"nvr-1", "pbx-1", "panel-1"}  # everything behind sw-1, which still answers

# Two top-level switches: with every device down, no device of the tree is the root.
TWO_TRUNKS: dict[str, dict[str, Any]] = {
    "sw-a": {"kind": "switch", "role": "core"},
    "sw-b": {"kind": "switch", "role": "core"},
    "nvr-a": {"kind": "nvr", "parent": "sw-a"},
    "pbx-b": {"kind": "pbx", "parent": "sw-b"},
}


class Link:
    """The gateway's own link, as the tests want it."""

    def __init__(self) -> None:
        self.problem: str | None = None

    def __call__(self) -> str | None:
        return self.problem


async def test_devices_behind_an_answering_parent_become_one_segment_condition(
    tmp_path: Path,
) -> None:
    probe = FakeProbe(down=SEGMENT)
    c = Correlator(site_config(tmp_path), probe, link=lambda: None)
    assert await c.process(unreachable("nvr-1", 90, 1)) == []  # gathering its siblings
    out = await c.process(unreachable("pbx-1", 95, 1))  # 2 of 3 children: half or more
    assert brief(out) == [("sw-1", SEGMENT_DOWN, True, 1, ("nvr-1", "pbx-1"))]
    assert out[0].since == at(90)
    assert await c.process(unreachable("panel-1", 99, 1)) == []  # listed with the next tick
    out = await c.tick(at(155))
    assert brief(out) == [("sw-1", SEGMENT_DOWN, True, 1, ("nvr-1", "panel-1", "pbx-1"))]
    # Recovery: members answering again leave quietly; when too few are left for a
    # storm it ends, and the rest (answering probes, their clears on the way) settle.
    probe.down = set()
    assert await c.process(unreachable("nvr-1", 600, 1, active=False)) == []
    out = await c.process(unreachable("pbx-1", 610, 1, active=False))
    assert brief(out) == [("sw-1", SEGMENT_DOWN, False, 1, ("panel-1",))]
    assert await c.process(unreachable("panel-1", 620, 1, active=False)) == []
    assert await c.tick(at(1000)) == []


async def test_segment_level_is_two_unless_what_it_lists_is_worse(tmp_path: Path) -> None:
    devices = {
        "sw-core": {"kind": "switch", "role": "core"},
        "sw-1": {"kind": "switch", "parent": "sw-core"},
        **{f"sw-1{n}": {"kind": "switch", "parent": "sw-1"} for n in range(4)},
    }
    c = Correlator(site_config(tmp_path, devices), FakeProbe(), link=lambda: None)
    assert await c.process(unreachable("sw-10", 90)) == []
    out = await c.process(unreachable("sw-11", 91))  # 2 of 4 edge switches, level 2 each
    assert brief(out) == [("sw-1", SEGMENT_DOWN, True, 2, ("sw-10", "sw-11"))]
    assert "sw-1 answers" in out[0].title


async def test_one_device_down_alone_is_not_a_storm(tmp_path: Path) -> None:
    c = Correlator(site_config(tmp_path), FakeProbe(down={"pbx-1"}), link=lambda: None)
    assert await c.process(unreachable("pbx-1", 90, 1)) == []
    assert await c.tick(at(149)) == []  # its outage began at 30; siblings raise within 120
    assert brief(await c.tick(at(150))) == [("pbx-1", UNREACHABLE, True, 1, ())]


async def test_devices_whose_outages_began_apart_are_separate(tmp_path: Path) -> None:
    c = Correlator(site_config(tmp_path), FakeProbe(down=SEGMENT), link=lambda: None)
    await c.process(unreachable("nvr-1", 90, 1))
    assert brief(await c.tick(at(150))) == [("nvr-1", UNREACHABLE, True, 1, ())]
    assert await c.process(unreachable("pbx-1", 400, 1)) == []
    assert brief(await c.tick(at(460))) == [("pbx-1", UNREACHABLE, True, 1, ())]


async def test_policy_thresholds(tmp_path: Path) -> None:
    strict = StormPolicy(min_devices=3, min_share=1.0)
    c = Correlator(site_config(tmp_path), FakeProbe(down=SEGMENT), storms=strict, link=lambda: None)
    assert await c.process(unreachable("nvr-1", 90, 1)) == []
    assert await c.process(unreachable("pbx-1", 95, 1)) == []  # 2 of 3 is not enough now
    out = await c.process(unreachable("panel-1", 99, 1))
    assert brief(out) == [("sw-1", SEGMENT_DOWN, True, 1, ("nvr-1", "panel-1", "pbx-1"))]
    assert StormPolicy().is_storm(3, 100) and not StormPolicy().is_storm(1, 1)
    with pytest.raises(ValueError, match="at least two"):
        StormPolicy(min_devices=1)
    with pytest.raises(ValueError, match="share"):
        StormPolicy(min_share=0)


async def test_every_device_down_is_one_gateway_condition(tmp_path: Path) -> None:
    probe = FakeProbe(down=set(TWO_TRUNKS))
    c = Correlator(site_config(tmp_path, TWO_TRUNKS), probe, link=lambda: None)
    for device, t, level in (("nvr-a", 90, 1), ("sw-a", 92, 1), ("pbx-b", 95, 1)):
        assert await c.process(unreachable(device, t, level)) == []
    out = await c.process(unreachable("sw-b", 97, 1))
    assert brief(out) == [
        (GATEWAY, GATEWAY_NETWORK_DOWN, True, 1, ("nvr-a", "pbx-b", "sw-a", "sw-b"))
    ]
    assert out[0].since == at(92)
    # The first top-level device back ends it; the others answer and settle.
    probe.down = set()
    out = await c.process(unreachable("sw-a", 700, 1, active=False))
    assert brief(out) == [(GATEWAY, GATEWAY_NETWORK_DOWN, False, 1, ("nvr-a", "pbx-b", "sw-b"))]
    for device, t in (("nvr-a", 705), ("pbx-b", 710), ("sw-b", 712)):
        assert await c.process(unreachable(device, t, 1, active=False)) == []
    assert await c.tick(at(2000)) == []


async def test_the_gateways_own_link_down_is_level_two_on_the_gateway(tmp_path: Path) -> None:
    link = Link()
    link.problem = "network interface of the default route is down: eth0 down"
    probe = FakeProbe(down=set(TWO_TRUNKS))
    c = Correlator(site_config(tmp_path, TWO_TRUNKS), probe, link=link)
    assert await c.process(unreachable("nvr-a", 90, 1)) == []
    out = await c.process(unreachable("sw-a", 92, 1))  # at once: no gathering
    assert brief(out) == [(GATEWAY, GATEWAY_NETWORK_DOWN, True, 2, ("nvr-a", "sw-a"))]
    assert out[0].evidence[0].value == link.problem
    assert "eth0 down" in out[0].title
    assert await c.process(unreachable("sw-b", 95, 1)) == []
    out = await c.tick(at(152))
    assert brief(out) == [(GATEWAY, GATEWAY_NETWORK_DOWN, True, 2, ("nvr-a", "sw-a", "sw-b"))]
    # The link is back but nothing answers yet: now it may be the site itself (level 1).
    link.problem = None
    out = await c.process(unreachable("pbx-b", 160, 1))
    assert brief(out) == [
        (GATEWAY, GATEWAY_NETWORK_DOWN, True, 1, ("nvr-a", "pbx-b", "sw-a", "sw-b"))
    ]


async def test_link_down_blames_the_gateway_even_with_one_core(tmp_path: Path) -> None:
    link = Link()
    link.problem = "the default route is gone"
    c = Correlator(site_config(tmp_path), FakeProbe(down={"sw-core"}), link=link)
    out = await c.process(unreachable("sw-core", 90, 1))
    assert brief(out) == [(GATEWAY, GATEWAY_NETWORK_DOWN, True, 2, ("sw-core",))]


async def test_with_one_core_and_a_good_link_the_core_is_the_root(tmp_path: Path) -> None:
    c = Correlator(site_config(tmp_path), FakeProbe(down={"sw-core", "sw-1"}), link=lambda: None)
    assert await c.process(unreachable("sw-1", 88)) == []
    out = await c.process(unreachable("sw-core", 90, 1))
    assert brief(out) == [("sw-core", UNREACHABLE, True, 1, ("sw-1",))]


async def test_some_top_level_devices_down_together_are_a_site_segment(tmp_path: Path) -> None:
    devices = {f"ups-{n}": {"kind": "nvr"} for n in range(4)}  # a flat site, no parents
    c = Correlator(site_config(tmp_path, devices), FakeProbe(), link=lambda: None)
    for n in range(2):
        out = await c.process(unreachable(f"ups-{n}", 90 + n, 1))
    assert brief(out) == [(GATEWAY, SEGMENT_DOWN, True, 1, ("ups-0", "ups-1"))]
    assert "together" in out[0].title
