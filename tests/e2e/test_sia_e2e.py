"""End to end, the DC-09 panel: the simulated site (see conftest.py) with panel-sia
reporting to the running gateway's receiver.

- Its silence (its reports stopped) opens ``panel.comm_lost`` at level 1 once its
  test period plus the gateway's grace has passed since its last message, not before.
- A panel whose clock is off is refused (NAK with the receiver's time), sets its clock
  from it and is served; nothing is ticketed.
- Bad input sent to the gateway's receiver while it runs (a wrong key, a bad CRC, a
  wrong length, a timestamp outside the window, an unknown account, a replay, garbage,
  then a flood of 10,000 messages) is answered as DC-09-2013 says (DUH, nothing, NAK,
  or an ACK that takes a replay once), counted by cause in the status snapshot, logged
  once per cause, and tickets nothing; the genuine panel keeps being served: its next
  fault opens its ticket.

Frames are built with pysiaalarm (tests/drivers/sia/build.py) and answers read with
the simulated panel's own parser: neither is the gateway's code.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import yaml

from simulators.dc09.codec import Answer, parse_answer
from tests.drivers.sia.build import longer_than_it_says, pysia_frame, stamp, with_bad_crc
from tests.e2e.conftest import (
    INTERVAL,
    SIA_GRACE,
    SIA_PANEL,
    SIA_TEST_PERIOD,
    FleetSite,
    status_of,
)

ACCOUNT = "E2E"
KEY = "E2EPanelKey12345"  # the fleet's key, as text
WINDOW = SIA_TEST_PERIOD + SIA_GRACE
SLACK = 3.0
SETTLE = 20.0
CAUSES = ("key", "crc", "length", "timestamp", "account", "framing")


def receiver_of(site: FleetSite) -> tuple[str, int]:
    listen = yaml.safe_load(site.config.read_text())["sia"]["listen"]
    host, _, port = str(listen).rpartition(":")
    return host, int(port)


def panel_state(site: FleetSite) -> dict[str, Any]:
    """panel-sia's DC-09 counts, as the simulator shows them (blocking: a thread)."""
    device = next(d for d in site.sim.client.devices() if d["id"] == SIA_PANEL)
    state: dict[str, Any] = device["sia"]
    return state


def intake(status: dict[str, Any]) -> dict[str, Any]:
    counts: dict[str, Any] = status["agent"].get("intake", {}).get("sia", {})
    return counts


def refused(status: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = intake(status).get("refused", {})
    return counts


def answers(data: bytes) -> list[Answer]:
    return [parse_answer(m) for m in re.findall(rb"\n[^\r]*\r", data)]


def wall_time_of(arrived_monotonic: float) -> float:
    return time.time() - (time.monotonic() - arrived_monotonic)


async def test_silence_opens_comm_lost_after_the_test_interval_plus_grace(
    site: FleetSite,
) -> None:
    center = site.center
    await site.settle(SETTLE, SIA_PANEL)
    mark = len(center.tickets)

    def opened() -> list[tuple[dict[str, Any], float]]:
        return [
            (event, at)
            for event, at in zip(center.tickets[mark:], center.arrived_at[mark:], strict=True)
            if event["device"]["id"] == SIA_PANEL and event["event"] == "open"
        ]

    await site.inject(SIA_PANEL, "comm_lost")
    await center.expect(opened, WINDOW + INTERVAL + SLACK, "comm_lost", lambda: opened())
    event, arrived = opened()[0]
    assert (event["fault"]["code"], event["severity"]) == ("panel.comm_lost", 1)
    # Nothing was delivered since the fault: its last delivery is where silence began.
    last = (await asyncio.to_thread(panel_state, site))["last_delivered"]
    silence = wall_time_of(arrived) - datetime.fromisoformat(last).timestamp()
    assert WINDOW <= silence <= WINDOW + INTERVAL + SLACK, silence

    await site.clear(SIA_PANEL)  # what it held back, then YK: the silence is over
    await center.expect(
        lambda: center.tickets[-1]["event"] == "resolve", 2 * INTERVAL + SLACK, "resolve",
        lambda: center.tickets[mark:],
    )  # fmt: skip
    assert center.tickets[-1]["ticket_id"] == event["ticket_id"]


async def panel_until(site: FleetSite, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The panel's DC-09 counts once ``ready`` says so (within a test period and slack)."""
    async with asyncio.timeout(SIA_TEST_PERIOD + SLACK):
        while not ready(state := await asyncio.to_thread(panel_state, site)):
            await asyncio.sleep(0.1)
    return state


async def test_a_panel_clock_off_is_refused_then_takes_the_receiver_time(
    site: FleetSite,
) -> None:
    center = site.center
    await site.settle(SETTLE, SIA_PANEL)
    mark = len(center.tickets)
    before = await counts_after(site, lambda s: True)
    start = await asyncio.to_thread(panel_state, site)
    for step, fault in enumerate((site.inject, site.clear), start=1):
        # An hour ahead, then back: its next message is NAKed, it sets its clock from
        # the NAK and sends the message again, and that one is taken.
        await fault(SIA_PANEL, "clock_skew")

        def refused_once_more(state: dict[str, Any], n: int = step) -> bool:
            return int(state["naks"]) >= int(start["naks"]) + n

        naked = await panel_until(site, refused_once_more)

        def taken_again(state: dict[str, Any], done: int = naked["delivered"]) -> bool:
            return int(state["delivered"]) > done

        await panel_until(site, taken_again)
    was = refused(before).get("timestamp", 0)
    await counts_after(site, lambda s: refused(s).get("timestamp", 0) == was + 2)
    # The panel's own tickets: another device of the fleet may have its say meanwhile
    # (a poll answered late on a loaded machine), which is not this case's.
    of_panel = [e for e in center.tickets[mark:] if e["device"]["id"] == SIA_PANEL]
    assert of_panel == [], [(e["event"], e["device"]["id"], e["fault"]["code"]) for e in of_panel]


async def exchange(host: str, port: int, data: bytes, expect: int) -> list[Answer]:
    """Send ``data`` on one connection and read ``expect`` answers (answers come in the
    order of the frames, so the last one says every frame before it was handled)."""
    reader, writer = await asyncio.open_connection(host, port)
    got = b""
    try:
        writer.write(data)
        await writer.drain()
        async with asyncio.timeout(10):
            while got.count(b"\r") < expect:
                chunk = await reader.read(65536)
                assert chunk, f"the receiver closed the connection after {got!r}"
                got += chunk
    finally:
        writer.close()
    return answers(got)


async def counts_after(site: FleetSite, ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The receiver's counts, once the snapshot (written every few seconds) has them."""
    return await status_of(site.config, lambda s: bool(intake(s)) and ready(s), timeout=20)


async def test_bad_input_is_refused_counted_logged_once_and_tickets_nothing(
    site: FleetSite,
) -> None:
    center = site.center
    host, port = receiver_of(site)
    await site.settle(SETTLE, SIA_PANEL)
    mark = len(center.tickets)
    before = await counts_after(site, lambda s: True)
    was = {cause: refused(before).get(cause, 0) for cause in CAUSES}

    # One of each, on one connection; the replay of the test report comes last, so its
    # answer says that everything before it was handled.
    test_report = pysia_frame("|1602 01 000]" + stamp(), ACCOUNT, "9001", "ADM-CID", key=KEY)
    bad = [
        test_report,  # genuine: *ACK (a test report: no fault)
        test_report,  # replayed: *ACK again, taken once
        pysia_frame("|1301 01 000]" + stamp(), ACCOUNT, "9002", "ADM-CID", key="WrongKeyWrongKey"),
        with_bad_crc(test_report),  # no answer
        longer_than_it_says(test_report),  # no answer
        # mains lost, ten minutes ago: a replay from the past, NAK with the gateway's time
        pysia_frame("|1301 01 000]" + stamp(-600), ACCOUNT, "9003", "ADM-CID", key=KEY),
        pysia_frame("|1301 01 000]" + stamp(), "BAD1", "9004", "ADM-CID"),  # DUH
        b"\x00\x01garbage\xff\r",  # no answer
        test_report,  # replayed again: *ACK
    ]  # fmt: skip
    sent_at = datetime.now(UTC)
    got = await exchange(host, port, b"".join(bad), expect=6)
    assert [(a.token, a.encrypted) for a in got] == [
        ("ACK", True), ("ACK", True), ("DUH", False), ("NAK", False), ("DUH", False),
        ("ACK", True)]  # fmt: skip
    assert [a.seq for a in got] == [9001, 9001, 9002, 0, 9004, 9001]
    nak_time = got[3].time()
    assert nak_time is not None and abs((nak_time - sent_at).total_seconds()) < 5

    expected = {cause: was[cause] + 1 for cause in CAUSES}

    def counted(status: dict[str, Any]) -> bool:
        return all(refused(status).get(c, 0) == n for c, n in expected.items())

    status = await counts_after(site, counted)
    assert intake(status)["duplicates"] == intake(before)["duplicates"] + 2

    # A flood of 10,000 refused messages; meanwhile the genuine panel reports a fault.
    kinds = [
        with_bad_crc(test_report),
        pysia_frame("|1301 01 000]" + stamp(), "BAD1", "0001", "ADM-CID"),
        pysia_frame("|1301 01 000]" + stamp(-600), ACCOUNT, "0001", "ADM-CID", key=KEY),
        b"garbage garbage garbage\r",
    ]
    flood = b"".join(kinds[i % 4] for i in range(10_000))
    flooding = asyncio.create_task(exchange(host, port, flood, expect=5000))
    await site.inject(SIA_PANEL, "zone_fault", zone=3)

    def zone_ticket() -> list[dict[str, Any]]:
        return [
            e for e in center.tickets[mark:]
            if e["device"]["id"] == SIA_PANEL and e["fault"]["code"] == "zone.trouble"
        ]  # fmt: skip

    # Not lost, nor held back until the flood has gone: the receiver serves every
    # connection between another's reads (the turn-counting test of that is
    # tests/drivers/sia/test_receiver.py). On a quiet machine the ticket comes within
    # 2 s; the gateway's share of a loaded machine's CPU is what the 10,000 refusals
    # take longer on, hence 30 s here.
    await center.expect(zone_ticket, 30.0, "the panel's ticket during the flood", zone_ticket)
    flood_answers = await flooding
    assert [a.token for a in flood_answers] == ["DUH", "NAK"] * 2500
    for cause in ("crc", "account", "timestamp", "framing"):
        expected[cause] += 2500
    await counts_after(site, counted)

    # Nothing but the panel's own fault was ticketed; each cause logged once.
    assert [(e["device"]["id"], e["fault"]["code"]) for e in center.tickets[mark:]] == [
        (SIA_PANEL, "zone.trouble")
    ], center.tickets[mark:]
    log = site.log()
    for cause in CAUSES:
        lines = re.findall(rf"DC-09 message refused \(logged once per cause\) cause={cause}\b", log)
        assert len(lines) == 1, (cause, len(lines))

    await site.clear(SIA_PANEL)
    await center.expect(
        lambda: center.tickets[-1]["event"] == "resolve", 2 * INTERVAL + SLACK, "resolve",
        lambda: center.tickets[mark:],
    )  # fmt: skip
