"""Dependencies: a parent down lists its children; the parent is probed before a child's
condition goes on, so the order in which devices report never picks the wrong root."""

from __future__ import annotations

from pathlib import Path

from gateway.correlate import Correlator, Placement
from gateway.model import Condition
from tests.correlate.kit import (
    UNREACHABLE,
    FakeProbe,
    at,
    brief,
    fault,
    site_config,
    unreachable,
)

# With 30 s polls and raise_after 3, a device that died at t is raised at about t+60;
# an access switch (sibling sw-2) waits for its siblings until its outage began + 120.


def correlator(tmp_path: Path, probe: FakeProbe) -> Correlator:
    return Correlator(site_config(tmp_path), probe, link=lambda: None)


async def feed(c: Correlator, *conditions: Condition) -> list[Condition]:
    out: list[Condition] = []
    for condition in conditions:
        out += await c.process(condition)
    return out


async def test_child_first_is_held_until_the_parent_is_raised(tmp_path: Path) -> None:
    probe = FakeProbe(down={"sw-1", "nvr-1"})
    c = correlator(tmp_path, probe)
    assert await c.process(unreachable("nvr-1", 90, level=1)) == []
    assert probe.calls == ["sw-1", "sw-core"]  # nearest first, up to one that answers
    assert c.placements()["nvr-1"] == (Placement.WAIT, "sw-1")
    assert await c.process(unreachable("sw-1", 100)) == []  # gathers: sw-2 might follow
    assert c.placements()["nvr-1"] == (Placement.UNDER, "sw-1")
    assert await c.tick(at(159)) == []
    out = await c.tick(at(160))  # sw-1's outage began at 40; its siblings' raise time is 120
    assert brief(out) == [("sw-1", UNREACHABLE, True, 1, ("nvr-1",))]
    # The NVR is level 1, so the switch's ticket is too: grouping never lowers urgency.


async def test_parent_first_then_child_gives_the_same_root(tmp_path: Path) -> None:
    c = correlator(tmp_path, FakeProbe(down={"sw-1", "nvr-1"}))
    assert await feed(c, unreachable("sw-1", 90), unreachable("nvr-1", 100, level=1)) == []
    out = await c.tick(at(150))
    assert brief(out) == [("sw-1", UNREACHABLE, True, 1, ("nvr-1",))]


async def test_children_joining_an_open_parent_update_its_listing(tmp_path: Path) -> None:
    c = correlator(tmp_path, FakeProbe(down={"sw-1", "nvr-1", "pbx-1", "panel-1"}))
    await feed(c, unreachable("sw-1", 90))
    assert brief(await c.tick(at(150))) == [("sw-1", UNREACHABLE, True, 2, ())]
    out = await c.process(unreachable("pbx-1", 170, level=1))  # more severe: at once
    assert brief(out) == [("sw-1", UNREACHABLE, True, 1, ("pbx-1",))]
    # Only more devices listed: passed on at most once a minute, together.
    assert await c.process(unreachable("nvr-1", 175, level=1)) == []
    assert await c.process(unreachable("panel-1", 180, level=1)) == []
    assert await c.tick(at(229)) == []
    out = await c.tick(at(230))
    assert brief(out) == [("sw-1", UNREACHABLE, True, 1, ("nvr-1", "panel-1", "pbx-1"))]


async def test_parent_recovers_with_a_child_still_down(tmp_path: Path) -> None:
    probe = FakeProbe(down={"sw-1", "nvr-1", "pbx-1"})
    c = correlator(tmp_path, probe)
    await feed(c, unreachable("sw-1", 90), unreachable("nvr-1", 95, 1), unreachable("pbx-1", 99, 1))
    await c.tick(at(150))
    probe.down = {"pbx-1"}  # the switch is back, the NVR with it; the PBX stays dead
    out = await c.process(unreachable("sw-1", 600, active=False))
    assert brief(out) == [
        ("sw-1", UNREACHABLE, False, 1, ("nvr-1", "pbx-1")),  # listed on it when it ended
        ("pbx-1", UNREACHABLE, True, 1, ()),  # its own ticket now
    ]
    assert out[1].since == at(99)  # down since then, listed on the switch meanwhile
    assert c.placements()["nvr-1"] == (Placement.SETTLE, "")
    assert await c.process(unreachable("nvr-1", 620, level=1, active=False)) == []


async def test_children_that_recover_with_the_parent_just_leave(tmp_path: Path) -> None:
    probe = FakeProbe(down={"sw-1", "nvr-1", "pbx-1"})
    c = correlator(tmp_path, probe)
    await feed(c, unreachable("sw-1", 90), unreachable("nvr-1", 95, 1), unreachable("pbx-1", 99, 1))
    await c.tick(at(150))
    probe.down = set()
    # A child answering again first is no news by itself: no update per child.
    assert await c.process(unreachable("nvr-1", 600, level=1, active=False)) == []
    out = await c.process(unreachable("sw-1", 610, active=False))
    assert brief(out) == [("sw-1", UNREACHABLE, False, 1, ("pbx-1",))]
    assert await c.process(unreachable("pbx-1", 615, level=1, active=False)) == []
    assert await c.tick(at(2000)) == []


async def test_a_child_that_stays_down_after_settling_gets_its_ticket(tmp_path: Path) -> None:
    probe = FakeProbe(down={"sw-1", "nvr-1"})
    c = correlator(tmp_path, probe)
    await feed(c, unreachable("sw-1", 90), unreachable("nvr-1", 95, 1))
    await c.tick(at(150))
    probe.down = set()  # the NVR answers the probe, yet its rules never clear it
    out = await c.process(unreachable("sw-1", 600, active=False))
    assert brief(out) == [("sw-1", UNREACHABLE, False, 1, ("nvr-1",))]
    assert await c.tick(at(689)) == []  # its clear time: (clear_after + 1) x 30 s
    assert brief(await c.tick(at(690))) == [("nvr-1", UNREACHABLE, True, 1, ())]


async def test_grandparent_is_the_root_whatever_the_order(tmp_path: Path) -> None:
    devices = {
        "sw-core": {"kind": "switch", "role": "core"},
        "sw-agg": {"kind": "switch", "parent": "sw-core"},
        "sw-1": {"kind": "switch", "parent": "sw-agg"},
        "nvr-1": {"kind": "nvr", "parent": "sw-1"},
    }
    probe = FakeProbe(down={"sw-agg", "sw-1", "nvr-1"})
    c = Correlator(site_config(tmp_path, devices), probe, link=lambda: None)
    assert await c.process(unreachable("nvr-1", 90, 1)) == []
    assert c.placements()["nvr-1"] == (Placement.WAIT, "sw-agg")  # the topmost silent one
    assert await c.process(unreachable("sw-1", 95)) == []
    out = await c.process(unreachable("sw-agg", 100))  # the core's only child: no gathering
    assert brief(out) == [("sw-agg", UNREACHABLE, True, 1, ("nvr-1", "sw-1"))]


async def test_a_parent_that_answers_makes_the_child_its_own_root(tmp_path: Path) -> None:
    c = correlator(tmp_path, FakeProbe(down={"nvr-2"}))
    out = await c.process(unreachable("nvr-2", 90, 1))  # sw-2's only child
    assert brief(out) == [("nvr-2", UNREACHABLE, True, 1, ())]


async def test_a_parent_that_never_gets_raised_stops_holding_its_child(tmp_path: Path) -> None:
    probe = FakeProbe(down={"sw-2", "nvr-2"})  # sw-2 fails probes, its polls never fail 3x
    c = correlator(tmp_path, probe)
    assert await c.process(unreachable("nvr-2", 90, 1)) == []
    assert await c.tick(at(209)) == []  # sw-2's raise time: (3 + 1) x 30 s after the wait
    assert brief(await c.tick(at(210))) == [("nvr-2", UNREACHABLE, True, 1, ())]


async def test_other_faults_behind_a_down_parent_are_suppressed(tmp_path: Path) -> None:
    probe = FakeProbe(down={"sw-1", "nvr-1"})
    c = correlator(tmp_path, probe)
    # Staleness noticed before the switch's unreachability: the switch is probed.
    assert await c.process(fault("nvr-1", "nvr.stale", 70)) == []
    await feed(c, unreachable("sw-1", 90))
    assert await c.process(fault("pbx-1", "pbx.trunks_down", 95, level=2)) == []
    out = await c.tick(at(150))
    assert brief(out) == [("sw-1", UNREACHABLE, True, 2, ())]
    # When the switch is back the held faults get a moment to clear ...
    probe.down = set()
    out = await c.process(unreachable("sw-1", 600, active=False))
    assert brief(out) == [("sw-1", UNREACHABLE, False, 2, ())]
    assert await c.process(fault("nvr-1", "nvr.stale", 610, active=False)) == []
    # ... and those still active after it are passed on.
    out = await c.tick(at(690))
    assert brief(out) == [("pbx-1", "pbx.trunks_down", True, 2, ())]


async def test_other_faults_of_devices_with_a_healthy_path_pass_at_once(tmp_path: Path) -> None:
    c = correlator(tmp_path, FakeProbe())
    disk = fault("nvr-1", "nvr.disk_failed", 10, level=2, instance="3")
    assert await c.process(disk) == [disk]
    worse = fault("nvr-1", "nvr.disk_failed", 20, level=1, instance="3")
    assert await c.process(worse) == [worse]  # the rules escalated it: passed on
    cleared = fault("nvr-1", "nvr.disk_failed", 30, level=1, active=False, instance="3")
    assert brief(await c.process(cleared)) == [("nvr-1", "nvr.disk_failed", False, 1, ())]


async def test_a_ticket_passed_on_is_never_taken_back(tmp_path: Path) -> None:
    probe = FakeProbe(down={"nvr-2"})
    c = correlator(tmp_path, probe)
    assert brief(await c.process(unreachable("nvr-2", 90, 1))) == [
        ("nvr-2", UNREACHABLE, True, 1, ())
    ]
    probe.down.add("sw-2")  # later its switch dies too: the NVR keeps its own ticket
    await c.process(unreachable("sw-2", 1000))
    assert brief(await c.tick(at(1100))) == [("sw-2", UNREACHABLE, True, 2, ())]


async def test_a_failing_probe_counts_as_no_answer(tmp_path: Path) -> None:
    async def broken(device: str) -> bool:
        if device == "sw-2":
            raise OSError("socket gone")
        return True

    c = Correlator(site_config(tmp_path), broken, link=lambda: None)
    assert await c.process(unreachable("nvr-2", 90, 1)) == []
    assert c.placements()["nvr-2"] == (Placement.WAIT, "sw-2")


async def test_tickets_open_before_a_restart_keep_their_own_and_close(tmp_path: Path) -> None:
    pbx = ("pbx-1", UNREACHABLE, "")
    disk = ("nvr-1", "nvr.disk_failed", "2")
    stale = ("panel-1", "panel.stale", "")
    c = Correlator(
        site_config(tmp_path),
        FakeProbe(down={"sw-1", "nvr-1", "pbx-1", "panel-1"}),
        link=lambda: None,
        open_keys=[pbx, disk, stale],
    )
    c.store.set_maintenance("nvr-1", at(3600), "Li", now=at(0))
    # The PBX had its own ticket: it keeps it even though its switch is down now.
    assert brief(await c.process(unreachable("pbx-1", 90, 1))) == [
        ("pbx-1", UNREACHABLE, True, 1, ())
    ]
    await c.process(unreachable("sw-1", 95))
    assert brief(await c.tick(at(160))) == [("sw-1", UNREACHABLE, True, 2, ())]
    # A fault open since before the restart is not suppressed behind the down switch ...
    panel = fault("panel-1", "panel.stale", 170)
    assert await c.process(panel) == [panel]
    # ... and a clear of a ticket the book holds gets through, even during maintenance.
    out = await c.process(
        fault("nvr-1", "nvr.disk_failed", 180, level=2, active=False, instance="2")
    )
    assert [(x.key, x.active, x.maintenance) for x in out] == [(disk, False, True)]
    out = await c.process(unreachable("pbx-1", 600, 1, active=False))
    assert brief(out) == [("pbx-1", UNREACHABLE, False, 1, ())]
