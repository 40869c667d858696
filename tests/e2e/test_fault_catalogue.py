"""End to end, the simulators' fault catalogue: every fault of every kind, injected
into a running simulated site (see conftest.py), raises on MQTT exactly the fault
code and level of docs/faults.md ("What the simulators' faults raise"), one ticket,
within the time its rule allows; clearing it resolves that ticket.

Where a fault has level variants (one camera or half of them, one trunk or all, one
zone or three, on battery and then the battery low, mains lost and then the battery
low) the case injects the first, expects the ``open`` at its level, then adds the
rest and expects an ``update`` of the same ticket at the escalated level.

The DC-09 panel (panel-sia) is never polled: each of its faults is a message it sends
at once, and its ticket must open within 2 s of it (``within``); its silence (comm_lost,
down) opens panel.comm_lost once its test period plus grace has passed since its last
message.

The cases run back to back against one gateway; each starts and ends with every
fault cleared and every ticket resolved (and after an outage above its device, once
the gateway's hold is over), so none depends on another's outcome. The first must
stay first (see TRAP_ONLY). The rules' waits are those of the test copy of the
profiles (conftest.write_test_profiles).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from gateway.config.limits import DEFAULT_LIMITS
from tests.e2e.conftest import (
    CLEAR_AFTER,
    INTERVAL,
    POLL_TIMEOUT,
    RULE_WAIT,
    SIA_GRACE,
    SIA_PANEL,
    SIA_TEST_PERIOD,
    FleetSite,
    validate,
)

# sw-edge is polled once a minute: a ticket of its within seconds can only come from
# the notification (linkDown, linkUp) that made the gateway poll it at once. Its case
# is the first: after an outage of a switch above it, the gateway holds its faults for
# its clear time, three of its polls.
TRAP_ONLY = "sw-edge"
POLL_INTERVALS = {TRAP_ONLY: 60.0}

RAISE_AFTER = 3  # failed polls to raise an outage (the shipped unreachable rules)
SLACK = 3.0  # seconds: scheduling, a poll in flight, a loaded machine
SETTLE = 20.0  # seconds for every ticket to resolve between cases


@dataclass(frozen=True)
class Fault:
    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    """A row of the catalogue: the fault, and the code and level it must raise
    (None: nothing), after ``wait`` (the rule's `for`, as in the test profiles);
    ``then`` are faults added afterwards, escalating the ticket to ``escalated``
    (or, where nothing is raised, more faults that raise nothing)."""

    device: str
    fault: Fault
    code: str | None
    level: int | None
    wait: float = 0.0
    then: tuple[Fault, ...] = ()
    escalated: int | None = None
    within: float | None = None  # the open's bound, when tighter than raise_bound's
    # Cleared one by one, the ticket steps back to its first level before it resolves
    # (a DC-09 panel reports each restoral on its own: battery, then mains).
    steps_down: bool = False

    @property
    def unreachable(self) -> bool:
        return self.code == "device.unreachable"


def row(device: str, fault: str, code: str | None, level: int | None, **kw: Any) -> Row:
    params = kw.pop("params", {})
    return Row(device, Fault(fault, params), code, level, **kw)


W = RULE_WAIT
MESSAGE_TO_TICKET = 2.0  # a DC-09 panel's fault: its ticket within 2 s of its message
# Silence: opened once the test period plus grace passed since the last message, which
# came at most a test period before the fault (a little more when the test report due
# at that moment had not left yet: half a second allowed); then a rule tick.
SILENCE_EARLIEST = SIA_GRACE - 0.5
SILENCE_BOUND = SIA_TEST_PERIOD + SIA_GRACE + INTERVAL + 2.0


# service.down: three answered polls without the software's objects, the first of them
# after the fault.
SOFTWARE_WAIT = (RAISE_AFTER - 1) * INTERVAL


def sia(fault: str, code: str | None, level: int | None, **kw: Any) -> Row:
    """A row of the DC-09 panel; a fault it reports at once opens within 2 s."""
    if code is not None and "within" not in kw:
        kw["within"] = kw.get("wait", 0.0) + MESSAGE_TO_TICKET
    return row(SIA_PANEL, fault, code, level, **kw)


CATALOGUE = {
    "port_down-uplink-by-trap": row(
        TRAP_ONLY, "port_down", "port.uplink_down", 2, params={"port": 8}
    ),
    # any kind
    "switch-down-core": row("sw-core", "down", "device.unreachable", 1),
    "switch-down-access": row("sw-floor", "down", "device.unreachable", 2),
    "nvr-down": row("nvr", "down", "device.unreachable", 1),
    "pbx-down": row("pbx", "down", "device.unreachable", 1),
    "panel-down": row("panel", "down", "device.unreachable", 1),
    "ups-down": row("ups", "down", "device.unreachable", 3),
    # An unexpected restart of the core switch, the NVR or the PBX: level 3.
    "switch-restart": row("sw-core", "restart", "device.rebooted", 3),
    "nvr-restart": row("nvr", "restart", "device.rebooted", 3),
    "pbx-restart": row("pbx", "restart", "device.rebooted", 3),
    "panel-restart": row("panel", "restart", "device.rebooted", 4),
    # "any but the UPS": its profile has no restart rule (a UPS that really restarts
    # drops its load, and the devices it feeds say so).
    "ups-restart-not-ticketed": row("ups", "restart", None, None),
    "switch-clock_skew": row("sw-core", "clock_skew", "clock.skew", 4),
    "nvr-clock_skew": row("nvr", "clock_skew", "clock.skew", 4),
    "pbx-clock_skew": row("pbx", "clock_skew", "clock.skew", 4),
    "ups-clock_skew": row("ups", "clock_skew", "clock.skew", 4),
    # switch
    "port_down-other-port": row("sw-core", "port_down", "port.down", 3, params={"port": 6}),
    "port_admin_down": row("sw-core", "port_admin_down", "port.admin_down", 4, params={"port": 7}),
    "port_errors": row("sw-core", "port_errors", "port.errors", 3, wait=W, params={"port": 8}),
    "poe_fault": row("sw-core", "poe_fault", "poe.fault", 3, params={"port": 1}),
    "fan_failed": row("sw-core", "fan_failed", "fan.failed", 3),
    "psu_failed": row("sw-core", "psu_failed", "psu.failed", 3),
    "overheat": row("sw-core", "overheat", "temperature.high", 3, wait=W),
    # The same faults read from the vendors' own MIBs by their profiles: CISCO-ENVMON-MIB,
    # HH3C-ENTITY-EXT-MIB, HUAWEI-ENTITY-EXTENT-MIB.
    "fan_failed-cisco": row("sw-acc", "fan_failed", "fan.failed", 3),
    "psu_failed-h3c": row("sw-h3c", "psu_failed", "psu.failed", 3),
    "overheat-h3c": row("sw-h3c", "overheat", "temperature.high", 3, wait=W),
    "fan_failed-huawei": row("sw-hw", "fan_failed", "fan.failed", 3),
    "overheat-huawei": row("sw-hw", "overheat", "temperature.high", 3, wait=W),
    # NVR
    "disk_failed": row("nvr", "disk_failed", "disk.failed", 2, params={"disk": 1}),
    "disk_full": row("nvr", "disk_full", "disk.nearly_full", 3, wait=W, params={"disk": 1}),
    "camera_offline-one-then-half": row(
        "nvr",
        "camera_offline",
        "camera.offline",
        3,
        wait=W,
        params={"channel": 1},
        then=(Fault("camera_offline", {"count": 2}),),
        escalated=1,
    ),
    "recording_stopped": row("nvr", "recording_stopped", "nvr.not_recording", 1, wait=W),
    # PBX
    "trunk_down-one-then-all": row(
        "pbx",
        "trunk_down",
        "trunk.down",
        2,
        wait=W,
        params={"trunk": 1},
        then=(Fault("trunk_down", {"trunk": "all"}),),
        escalated=1,
    ),
    # alarm panel
    "mains_fail-then-battery_low": row(
        "panel",
        "mains_fail",
        "panel.mains_lost",
        3,
        wait=W,
        then=(Fault("battery_low"),),
        escalated=1,
    ),
    "panel-battery_low": row("panel", "battery_low", "panel.battery_low", 3, wait=W),
    "comm_lost": row("panel", "comm_lost", "panel.comm_lost", 1, wait=W),
    "box_tamper": row("panel", "box_tamper", "panel.box_tamper", 2),
    "disarmed-outside-schedule": row("panel", "disarmed", "panel.disarmed", 4, wait=W),
    "zone_tamper-one-zone": row("panel", "zone_tamper", "zone.trouble", 3, params={"zone": 2}),
    "zone_fault-one-then-three-zones": row(
        "panel",
        "zone_fault",
        "zone.trouble",
        3,
        params={"zone": 1},
        then=(Fault("zone_tamper", {"zone": 2}), Fault("zone_fault", {"zone": 3})),
        escalated=2,
    ),
    "detector_battery_low": row(
        "panel",
        "detector_battery_low",
        "zone.detector_battery_low",
        3,
        wait=W,
        params={"zone": 4},
    ),
    "zone_alarm-zone_bypass-not-faults": row(
        "panel",
        "zone_alarm",
        None,
        None,
        params={"zone": 1},
        then=(Fault("zone_bypass", {"zone": 2}),),
    ),
    # alarm panel reporting over DC-09 (Contact ID, encrypted)
    "sia-down-is-silence": sia(
        "down", "panel.comm_lost", 1, wait=SILENCE_EARLIEST, within=SILENCE_BOUND
    ),
    "sia-comm_lost-is-silence": sia(
        "comm_lost", "panel.comm_lost", 1, wait=SILENCE_EARLIEST, within=SILENCE_BOUND
    ),
    # A restart is reported (power up) but is no fault; a skewed clock is refused (NAK)
    # and the panel takes the receiver's time: nothing to repair.
    "sia-restart-not-ticketed": sia("restart", None, None),
    "sia-clock_skew-not-ticketed": sia("clock_skew", None, None),
    "sia-mains_fail-then-battery_low": sia(
        "mains_fail",
        "panel.mains_lost",
        3,
        then=(Fault("battery_low"),),
        escalated=1,
        steps_down=True,
    ),
    "sia-battery_low": sia("battery_low", "panel.battery_low", 3),
    "sia-box_tamper": sia("box_tamper", "panel.box_tamper", 2),
    "sia-siren_fault": sia("siren_fault", "panel.siren_fault", 3),
    "sia-disarmed-outside-schedule": sia("disarmed", "panel.disarmed", 4, wait=W),
    "sia-zone_tamper-one-zone": sia("zone_tamper", "zone.trouble", 3, params={"zone": 2}),
    "sia-zone_fault-one-then-three-zones": sia(
        "zone_fault",
        "zone.trouble",
        3,
        params={"zone": 1},
        then=(Fault("zone_tamper", {"zone": 2}), Fault("zone_fault", {"zone": 3})),
        escalated=2,
    ),
    "sia-detector_battery_low": sia(
        "detector_battery_low", "zone.detector_battery_low", 3, params={"zone": 4}
    ),
    "sia-zone_alarm-zone_bypass-not-faults": sia(
        "zone_alarm", None, None, params={"zone": 1}, then=(Fault("zone_bypass", {"zone": 2}),)
    ),
    # UPS
    "on_battery": row("ups", "on_battery", "ups.on_battery", 3),
    # A worn battery on battery reports low with a minute left: under 5 min, level 1.
    "on_battery-then-battery_low": row(
        "ups", "on_battery", "ups.on_battery", 3, then=(Fault("battery_low"),), escalated=1
    ),
    # Drained to a fifth before the gateway started, with hours of runtime: low, not short.
    "on_battery-battery-already-low": row("ups-drained", "on_battery", "ups.on_battery", 2),
    "ups-battery_low": row("ups", "battery_low", "ups.battery_low", 3, wait=W),
    "overload": row("ups", "overload", "ups.overload", 2, wait=W),
    # An APC UPS read over PowerNet-MIB.
    "on_battery-apc": row("ups-apc", "on_battery", "ups.on_battery", 3),
    # A Synology recorder read over its MIBs: a disk whose health says it is failing
    # (its volume stays normal), a restart; a FreeSWITCH over FREESWITCH-MIB: a restart,
    # and trunks lost, which its MIB cannot show (docs/faults.md, pbx-freeswitch).
    "disk_failing-synology": row(
        "nvr-syno", "disk_failed", "disk.smart_warning", 3, params={"disk": 2, "status": 3}
    ),
    "nvr-restart-synology": row("nvr-syno", "restart", "device.rebooted", 3),
    "pbx-restart-freeswitch": row("pbx-fs", "restart", "device.rebooted", 3),
    "trunk_down-freeswitch-not-seen": row("pbx-fs", "trunk_down", None, None),
    # The PBX's software stopped while its host answers (snmpd answers noSuchObject for
    # its subagent's subtree): three answered polls without it; started again (its
    # uptime from zero), the ticket resolves and no device.rebooted opens besides. A
    # subagent cut off from snmpd for as long looks the same (test_pbx_software_e2e.py
    # has the brief reconnect, which opens nothing).
    "app_stopped-asterisk": row("pbx", "app_stopped", "service.down", 1, wait=SOFTWARE_WAIT),
    "app_stopped-freeswitch": row("pbx-fs", "app_stopped", "service.down", 1, wait=SOFTWARE_WAIT),
    "agentx_lost-held-freeswitch": row(
        "pbx-fs", "agentx_lost", "service.down", 1, wait=SOFTWARE_WAIT
    ),
}


def raise_bound(case: Row) -> float:
    """How long the open may take: the rule's wait (or the failed polls), the poll that
    sees it, and for an outage the moment siblings are given to fail with it."""
    if case.within is not None:
        return case.within
    if case.unreachable:
        return RAISE_AFTER * (INTERVAL + POLL_TIMEOUT) + RAISE_AFTER * INTERVAL + SLACK
    return case.wait + 2 * INTERVAL + SLACK


def earliest(case: Row) -> float:
    """The open may not come before the rule's wait (or the failed polls) passed."""
    if case.unreachable:
        return (RAISE_AFTER - 1) * INTERVAL
    return case.wait


RESOLVE_BOUND = RULE_WAIT + (CLEAR_AFTER + 1) * INTERVAL + SLACK


def resolve_bound(case: Row) -> float:
    """How long the resolve may take. The trap-only switch is polled once a minute, so
    its clearing is seen by the poll its linkUp asks for: that poll comes at most once
    per ``limits.trap_poll_every`` per device (the linkDown's poll was the last one), so
    it may wait out the rest of that window."""
    if case.device == TRAP_ONLY:
        return RESOLVE_BOUND + DEFAULT_LIMITS.trap_poll_every
    return RESOLVE_BOUND


ESCALATE_BOUND = 2 * INTERVAL + SLACK
NOTHING_WAIT = RULE_WAIT + 3 * INTERVAL  # a rule would have raised by then


def summary(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (e["event"], e["fault"]["code"], e["fault"]["instance"], e["severity"], e["seq"])
        for e in events
    ]


@pytest.mark.parametrize("case", CATALOGUE.values(), ids=CATALOGUE.keys())
async def test_fault_raises_its_documented_level_and_clears(case: Row, site: FleetSite) -> None:
    center = site.center
    await site.settle(SETTLE, case.device)
    mark = len(center.tickets)

    def events() -> list[dict[str, Any]]:
        return [e for e in center.tickets[mark:] if e["device"]["id"] == case.device]

    started = time.monotonic()
    await site.inject(case.device, case.fault.name, **case.fault.params)
    if case.code is None:
        for fault in case.then:
            await site.inject(case.device, fault.name, **fault.params)
        await asyncio.sleep(NOTHING_WAIT)
        assert events() == [], summary(events())
        await site.clear(case.device)
        return

    await center.expect(events, raise_bound(case), "ticket", lambda: summary(events()))
    took = time.monotonic() - started
    opened = events()[0]
    assert summary([opened])[0][:2] == ("open", case.code), summary(events())
    assert opened["severity"] == case.level, summary(events())
    assert took >= earliest(case), f"opened after {took:.1f} s"

    if case.then:
        for fault in case.then:
            await site.inject(case.device, fault.name, **fault.params)
        await center.expect(
            lambda: any(e["severity"] == case.escalated for e in events()[1:]),
            ESCALATE_BOUND, "escalation", lambda: summary(events()),
        )  # fmt: skip

    await site.clear(case.device)
    await center.expect(
        lambda: events()[-1]["event"] == "resolve", resolve_bound(case), "resolve",
        lambda: summary(events()),
    )  # fmt: skip
    # Every ticket resolved again: a second one of the device is among the events now.
    await center.wait_for(lambda: not center.open_tickets(), SETTLE)

    seen = events()
    for event in seen:
        validate(event)
    assert {e["ticket_id"] for e in seen} == {opened["ticket_id"]}, summary(seen)
    kinds = [e["event"] for e in seen]
    assert kinds[0] == "open" and kinds[-1] == "resolve", summary(seen)
    assert set(kinds[1:-1]) <= {"update"}, summary(seen)
    assert [e["seq"] for e in seen] == list(range(1, len(seen) + 1)), summary(seen)
    assert {e["fault"]["code"] for e in seen} == {case.code}, summary(seen)
    updates = [e["severity"] for e in seen[1:-1]]
    if case.steps_down:
        assert updates == [case.escalated, case.level], summary(seen)
    elif case.then:
        assert updates and updates[-1] == case.escalated, summary(seen)
    else:
        # Only more devices listed on an outage may update it, never its level.
        assert set(updates) <= {case.level}, summary(seen)


async def test_every_fault_of_the_simulators_has_a_case(site: FleetSite) -> None:
    """A fault added to the simulators must get its row here (and in docs/faults.md);
    faults are listed by fault set (a kind, or a variant of it: alarm_panel/sia)."""
    kinds = {d["id"]: d["fault_set"] for d in await asyncio.to_thread(site.sim.client.devices)}
    catalogue = await asyncio.to_thread(site.sim.client.faults)
    offered = {(kind, fault) for kind, faults in catalogue.items() for fault in faults}
    covered = {
        (kinds[case.device], fault.name)
        for case in CATALOGUE.values()
        for fault in (case.fault, *case.then)
    }
    assert offered - covered == set()


async def test_every_notification_came_from_a_device_of_the_site(site: FleetSite) -> None:
    """The fleet's notifications reached the gateway from the addresses the site file
    gives its devices: none was dropped as from an unknown sender, or rejected."""
    log = site.log()
    assert "trap receiver listening" in log
    assert "trap from an unknown sender" not in log
    assert "rejected SNMP datagram" not in log
