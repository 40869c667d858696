"""End to end: the PBX's software (FreeSWITCH, Asterisk) stops while its host runs on.

The simulated PBX's host keeps answering SNMP (system group, HOST-RESOURCES-MIB) while
its software's subtree answers noSuchObject, as the host's snmpd does once the
software's AgentX subagent is gone. The service center gets one level-1 ticket,
`service.down`, with the level-1 clocks (a response within 10 min, a technician within
2 h: the urban site round the clock), the software's objects as absent evidence; it
resolves when the software is back, and its restart opens nothing more. A subagent
that reconnects within about a poll opens nothing at all."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import CLEAR_AFTER, INTERVAL, RULE_WAIT, FleetSite, validate

RAISE_AFTER = 3  # answered polls without the software's objects (the shipped rules)
SLACK = 3.0  # seconds: scheduling, a poll in flight, a loaded machine
SETTLE = 20.0
QUIET = RULE_WAIT + 3 * (INTERVAL + 1.0)  # a ticket would have opened by then
SOFTWARE = {"pbx-fs": "FreeSWITCH", "pbx": "Asterisk"}


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def summary(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(e["event"], e["fault"]["code"], e["severity"], e["seq"]) for e in events]


@pytest.mark.parametrize("device", sorted(SOFTWARE))
async def test_software_stopped_opens_level_1_and_its_restart_resolves_it(
    device: str, site: FleetSite
) -> None:
    center = site.center
    await site.settle(SETTLE, device)
    events = center.from_now(device)
    started = time.monotonic()
    await site.inject(device, "app_stopped")
    bound = RAISE_AFTER * INTERVAL + SLACK
    await center.expect(events, bound, "service.down", lambda: summary(events()))
    took = time.monotonic() - started
    opened = events()[0]
    validate(opened)
    assert (opened["event"], opened["fault"]["code"], opened["severity"]) == (
        "open", "service.down", 1,
    ), summary(events())  # fmt: skip
    assert took >= (RAISE_AFTER - 1) * INTERVAL, f"opened after {took:.1f} s"
    assert opened["title"].startswith(f"{SOFTWARE[device]} on "), opened["title"]
    occurred = parse(opened["occurred_at"])
    assert parse(opened["response_due"]) - occurred == timedelta(minutes=10)
    assert parse(opened["onsite_due"]) - occurred == timedelta(hours=2)
    evidence = {e["point"]: e for e in opened["fault"]["evidence"]}
    assert evidence["reachable"]["value"] is True  # the host answers
    assert evidence["pbx.version"]["quality"] == "absent"
    assert evidence["pbx.uptime"]["quality"] == "absent"

    await site.clear(device, "app_stopped")  # started again: its uptime from zero
    await center.expect(
        lambda: events()[-1]["event"] == "resolve", (CLEAR_AFTER + 1) * INTERVAL + SLACK,
        "resolve", lambda: summary(events()),
    )  # fmt: skip
    # The restart ends the incident: no device.rebooted ticket besides.
    await asyncio.sleep(QUIET)
    seen = events()
    for event in seen:
        validate(event)
    assert [(e["event"], e["fault"]["code"]) for e in seen] == [
        ("open", "service.down"), ("resolve", "service.down"),
    ], summary(seen)  # fmt: skip


async def test_a_subagent_reconnecting_within_a_poll_opens_nothing(site: FleetSite) -> None:
    device = "pbx-fs"
    center = site.center
    await site.settle(SETTLE, device)
    events = center.from_now(device)
    # snmpd restarted: mod_snmp's objects are gone until it reconnects, about a poll
    # later (at most two polls see them gone: three would raise). The simulator times
    # the reconnection itself, however long the control requests take.
    await site.inject(device, "agentx_lost", seconds=1.2 * INTERVAL)
    await asyncio.sleep(1.2 * INTERVAL + QUIET)
    await site.clear(device, "agentx_lost")
    assert events() == [], summary(events())
