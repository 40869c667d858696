"""End to end, dependencies: the access switch that the NVR, the PBX and the alarm
panel hang off dies (the simulator's `down`), and the service center gets one ticket,
the switch's `device.unreachable`, listing them; none of their own. Restoring the
switch resolves it, and still no ticket of theirs follows (docs/faults.md,
"Dependencies, storms and maintenance")."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.e2e.conftest import (
    CLEAR_AFTER,
    INTERVAL,
    OUTAGE_HOLD,
    POLL_TIMEOUT,
    FleetSite,
    status_of,
    validate,
)

SWITCH = "sw-acc"
BEHIND = ["nvr", "panel", "pbx"]  # sorted, as `related_devices` lists them
RAISE_AFTER = 3  # failed polls to raise an outage (the shipped unreachable rules)
SLACK = 3.0
# The failed polls, then the wait for siblings of the switch that died with it.
RAISE_BOUND = RAISE_AFTER * (INTERVAL + POLL_TIMEOUT) + (RAISE_AFTER + 1) * INTERVAL + SLACK
RESOLVE_BOUND = (CLEAR_AFTER + 1) * INTERVAL + SLACK


def summary(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (e["event"], e["device"]["id"], e["fault"]["code"], e["severity"], e["related_devices"])
        for e in events
    ]


async def test_dead_access_switch_is_one_ticket_listing_the_devices_behind_it(
    site: FleetSite,
) -> None:
    center = site.center
    await site.settle(20)
    mark = len(center.tickets)

    def events() -> list[dict[str, Any]]:
        return center.tickets[mark:]

    def listed() -> bool:
        latest = events()[-1] if events() else None
        return latest is not None and latest["related_devices"] == BEHIND

    await site.inject(SWITCH, "down")
    await center.expect(listed, RAISE_BOUND, "listing", lambda: summary(events()))
    opened = events()[0]
    assert (opened["event"], opened["device"]["id"]) == ("open", SWITCH), summary(events())
    assert opened["fault"]["code"] == "device.unreachable", summary(events())
    # An access switch is level 2, but the recorder, the phones and the alarm panel
    # went with it: the incident is as urgent as the most urgent of them.
    assert events()[-1]["severity"] == 1, summary(events())

    # A technician's view meanwhile: one open ticket, listing the devices behind.
    def snapshot_has_listing(status: dict[str, Any]) -> bool:
        return any(t.get("related_devices") == BEHIND for t in status["open_tickets"])

    status = await status_of(site.config, snapshot_has_listing)
    assert [t["ticket_id"] for t in status["open_tickets"]] == [opened["ticket_id"]]
    devices = {d["id"]: d for d in status["devices"]}
    assert [devices[d]["worst_level"] for d in [SWITCH, *BEHIND]] == [1, 1, 1, 1]
    assert not any(devices[d]["reachable"] for d in [SWITCH, *BEHIND])

    await site.clear(SWITCH)
    await center.expect(
        lambda: events()[-1]["event"] == "resolve", RESOLVE_BOUND, "resolve",
        lambda: summary(events()),
    )  # fmt: skip
    # The devices behind answer again and their own clears vanish; give them their
    # clear time, in which a ticket of theirs would open if one were due.
    await asyncio.sleep(OUTAGE_HOLD + RAISE_AFTER * INTERVAL)

    seen = events()
    for event in seen:
        validate(event)
    assert {(e["device"]["id"], e["ticket_id"]) for e in seen} == {(SWITCH, opened["ticket_id"])}, (
        summary(seen)
    )
    assert [e["event"] for e in seen][1:-1] in ([], ["update"]), summary(seen)
    assert [e["seq"] for e in seen] == list(range(1, len(seen) + 1)), summary(seen)
    assert not center.open_tickets()
