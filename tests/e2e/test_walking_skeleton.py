"""End to end on real parts: net-snmp's snmpd is the core switch, mosquitto the broker,
`lvgw run` the gateway (a real subprocess), and the test is the service center."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.metrics.store import MetricStore
from tests.e2e.conftest import ServiceCenter, lvgw_status, parse, status_of, validate
from tests.e2e.core_switch import INTERVAL, core_switch_site
from tests.e2e.lvgw import lvgw_run
from tests.realservers import Mosquitto, Snmpd

SITE = """\
  name: End-to-end test site
  customer: {name: Test Customer, contact: Ann, phone: "+1 555 0100", address: 1 Test Road}
  contract: {type: annual, ends: 2027-06-30}
  zone: urban"""


async def test_core_switch_down_and_back_opens_and_resolves_one_ticket(
    tmp_path: Path, mosquitto: Mosquitto, snmpd: Snmpd, service_center: ServiceCenter
) -> None:
    config = core_switch_site(tmp_path, mosquitto, snmpd, SITE)
    gateway = lvgw_run(config)
    try:
        center = service_center
        await center.wait_for(lambda: any(s["state"] == "online" for s in center.status), 10)

        # Healthy: several polls, no ticket.
        await asyncio.sleep(INTERVAL * 4)
        assert center.tickets == []

        snmpd.kill()
        killed_at = time.monotonic()
        await center.wait_for(lambda: len(center.tickets) >= 1, 10)
        opened_after = time.monotonic() - killed_at
        # raise_after 3 failed polls: within three intervals (plus the poll timeout and slack).
        assert opened_after <= 3 * INTERVAL + 0.2 + 1.0, opened_after
        opened = center.tickets[0]
        validate(opened)
        assert opened["event"] == "open"
        assert opened["severity"] == 1
        assert opened["seq"] == 1
        assert opened["device"] == {
            "id": "sw-core", "kind": "switch", "name": "", "address": "127.0.0.1", "role": "core"
        }  # fmt: skip
        assert opened["fault"]["code"] == "device.unreachable"
        assert opened["site"]["customer"]["name"] == "Test Customer"
        assert opened["site"]["contract"] == {
            "type": "annual",
            "ends": "2027-06-30",
            "ended": False,
        }
        occurred = parse(opened["occurred_at"])
        assert parse(opened["response_due"]) - occurred == timedelta(minutes=10)
        assert parse(opened["onsite_due"]) - occurred == timedelta(hours=2)

        # A technician's view: the device is down and its ticket open, counting down.
        status = await status_of(config, lambda s: bool(s["open_tickets"]))
        assert status["agent_state"] == "running"
        assert [t["ticket_id"] for t in status["open_tickets"]] == [opened["ticket_id"]]
        device = status["devices"][0]
        assert (device["id"], device["reachable"], device["worst_level"]) == ("sw-core", False, 1)

        snmpd.start()
        await center.wait_for(lambda: len(center.tickets) >= 2, 10)
        resolved = center.tickets[1]
        validate(resolved)
        assert resolved["event"] == "resolve"
        assert resolved["ticket_id"] == opened["ticket_id"]
        assert resolved["seq"] > opened["seq"]
        assert resolved["event_id"] != opened["event_id"]

        # Still healthy afterwards: no further ticket.
        await asyncio.sleep(INTERVAL * 4)
        assert len(center.tickets) == 2

        gateway.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(gateway.wait, 10) == 0
        await center.wait_for(lambda: center.status[-1]["state"] == "offline", 5)
        assert center.status[-1]["reason"] == "shutdown"
        text = await lvgw_status(config)
        assert "agent stopped" in text
        assert "OPEN TICKETS (0)" in text
        assert "sw-core" in text
    finally:
        if gateway.poll() is None:
            gateway.kill()
        output = gateway.communicate(timeout=10)[0].decode()
    assert "device down device=sw-core" in output
    assert "ticket open" in output
    assert "device recovered device=sw-core" in output
    assert "public" not in output  # the community is a secret

    # Health history on the box: what was polled is in the embedded store.
    async with MetricStore(tmp_path / "state" / "metrics.db", read_only=True) as metrics:
        reachable = await metrics.series(
            "sw-core", "reachable", None, datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC)
        )
        values = [s.last for s in reachable.samples]
        assert 0.0 in values  # down while snmpd was killed
        assert values[-1] == 1.0  # up again at the end
        assert await metrics.latest("sw-core", "sys.uptime") is not None
