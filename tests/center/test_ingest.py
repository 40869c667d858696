"""Ingest from a real mosquitto: each event once, in seq order, rejections kept, the
session kept while the center is away, and no acknowledgement before the ledger has it."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path

import aiomqtt
import pytest

from center.events import Rejection
from center.ledger import LedgerStore
from center.service import Center
from tests.center.conftest import center_file, load, running
from tests.center.events import event_id, ticket_event
from tests.realservers import Mosquitto

pytestmark = pytest.mark.integration
TOPIC = "lvgw/v1/site-001/tickets"


async def publish(broker: Mosquitto, *messages: tuple[str, bytes]) -> None:
    async with aiomqtt.Client(broker.host, broker.port) as site:
        for topic, payload in messages:
            await site.publish(topic, payload, qos=1)


async def wait_for(store: LedgerStore, what: str, predicate: object) -> None:
    """Poll the ledger until ``predicate(tickets, rejected)`` holds."""
    state: dict[str, object] = {}

    async def check() -> bool:
        state["tickets"] = await store.tickets()
        state["rejected"] = await store.rejected()
        return bool(predicate(state["tickets"], state["rejected"]))  # type: ignore[operator]

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{what}: not within 10 s: {state}")


async def test_duplicates_out_of_order_and_malformed(tmp_path: Path, mosquitto: Mosquitto) -> None:
    center = Center(load(center_file(tmp_path, mosquitto)))
    first, second, third = (ticket_event("t-1", s, k) for s, k in
                            [(1, "open"), (2, "update"), (3, "resolve")])  # fmt: skip
    async with running(center):
        await publish(
            mosquitto,
            (TOPIC, third),
            (TOPIC, b"{broken"),
            (TOPIC, second),
            (TOPIC, first),
            (TOPIC, first),  # the same event again
            ("lvgw/v1/site-002/tickets", ticket_event("t-2", 1)),  # site-001's event elsewhere
            ("lvgw/v1/site-001/status", json.dumps({"state": "online", "version": "9"}).encode()),
        )
        await wait_for(
            center.store, "ticket resolved, 2 rejected",
            lambda t, r: len(r) == 2 and [x.state for x in t] == ["resolved"],
        )  # fmt: skip
        (ticket,) = await center.store.tickets()
        assert ticket.applied_seq == 3
        ids = await center.store.event_ids("t-1")
        assert ids == [(event_id(p), s, True) for s, p in enumerate([first, second, third], 1)]
        reasons = [reason for _t, _e, reason in await center.store.rejected()]
        assert reasons[0].startswith("not JSON")
        assert "but the event is of site 'site-001'" in reasons[1]
        (site,) = await center.store.sites()
        assert (site["site"], site["online"], site["version"]) == ("site-001", True, "9")


async def test_events_wait_at_the_broker_while_the_center_is_away(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    config = load(center_file(tmp_path, mosquitto))
    async with running(Center(config)):
        pass  # the session exists now
    opened = ticket_event("t-1", 1)
    await publish(mosquitto, (TOPIC, opened))
    center = Center(config)
    async with running(center):
        await wait_for(center.store, "the event", lambda t, r: len(t) == 1)
        assert await center.store.event_ids("t-1") == [(event_id(opened), 1, True)]


async def test_a_message_is_acknowledged_only_once_in_the_ledger(
    tmp_path: Path, mosquitto: Mosquitto, monkeypatch: pytest.MonkeyPatch
) -> None:
    center = Center(load(center_file(tmp_path, mosquitto)))
    real_ingest = center.store.ingest_many
    failures: list[str] = []

    async def failing_once(*args: object, **kwargs: object) -> object:
        if not failures:
            failures.append("disk full")
            raise OSError(28, "No space left on device")
        return await real_ingest(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(center.store, "ingest_many", failing_once)
    opened = ticket_event("t-1", 1)
    async with running(center):
        await publish(mosquitto, (TOPIC, opened))
        await wait_for(center.store, "the event, sent again", lambda t, r: len(t) == 1)
        assert await center.store.event_ids("t-1") == [(event_id(opened), 1, True)]
    assert failures == ["disk full"]


async def test_the_command_runs_and_stops_cleanly(tmp_path: Path, mosquitto: Mosquitto) -> None:
    """``python -m center run`` as a user starts it, then ``tickets`` reads its ledger."""
    config = center_file(tmp_path, mosquitto)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "center", "run", "-c", str(config),
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        opened = ticket_event("t-1", 1)
        deadline = time.monotonic() + 15
        while not (tmp_path / "center.db").exists():
            assert time.monotonic() < deadline, "no ledger"
            await asyncio.sleep(0.05)
        while True:
            await publish(mosquitto, (TOPIC, opened))  # again until taken: dedup keeps one
            listed = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "center", "tickets", "-c", str(config), "--json",
                stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, _ = await listed.communicate()
            if listed.returncode == 0 and json.loads(out):
                break
            assert time.monotonic() < deadline, "the event never reached the ledger"
            await asyncio.sleep(0.1)
        assert [t["ticket_id"] for t in json.loads(out)] == ["t-1"]
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err


async def test_a_message_that_trips_a_bug_is_kept_aside_not_retried_forever(
    tmp_path: Path, mosquitto: Mosquitto, monkeypatch: pytest.MonkeyPatch
) -> None:
    center = Center(load(center_file(tmp_path, mosquitto)))
    real_ingest = center.store.ingest_many
    calls: list[object] = []

    async def buggy_for_events(items: list[object], *args: object) -> object:
        calls.extend(items)
        if not all(isinstance(item, Rejection) for item in items):
            raise ValueError("a bug")
        return await real_ingest(items, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(center.store, "ingest_many", buggy_for_events)
    async with running(center):
        await publish(mosquitto, (TOPIC, ticket_event("t-1", 1)), (TOPIC, b"{broken"))
        await wait_for(center.store, "both kept aside", lambda t, r: len(r) == 2)
        reasons = sorted(reason for _t, _e, reason in await center.store.rejected())
        taken = len(calls)
        await asyncio.sleep(0.3)  # not sent again: it was acknowledged
        assert len(calls) == taken
    assert reasons[0] == "could not be taken: ValueError: a bug"
    assert reasons[1].startswith("not JSON")
    assert sum(1 for item in calls if not isinstance(item, Rejection)) <= 2  # batch, then alone


async def test_replies_and_statuses_of_the_sites_are_kept(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    center = Center(load(center_file(tmp_path, mosquitto)))
    refused = json.dumps({"ok": False, "error": "no open ticket 't-9'", "request_id": "r-1"})
    async with running(center):
        await publish(
            mosquitto,
            ("lvgw/v1/site-001/status", json.dumps({"state": "online", "version": "1"}).encode()),
            ("lvgw/v1/site-001/acks-reply", refused.encode()),
            ("lvgw/v1/site-001/acks-reply", refused.encode()),  # sent again: kept once
            ("lvgw/v1/site-002/cmd-reply/maintenance", b'{"ok": true, "request_id": "r-2"}'),
            # Replies to cmd/status and cmd/tickets: replies, not a status or an event.
            ("lvgw/v1/site-002/cmd-reply/status", b'{"ok": true, "request_id": "r-3"}'),
            ("lvgw/v1/site-002/cmd-reply/tickets", b'{"ok": false, "error": "unknown command"}'),
            ("lvgw/v1/site-002/acks-reply", b"not json"),
            ("lvgw/v1/site-001/status", b'{"state": "offline", "reason": "connection lost"}'),
        )

        async def arrived() -> bool:
            sites = await center.store.sites()
            replies = await center.store.replies()
            taken = len(await center.store.rejected()) == 1 and len(replies) == 4
            return taken and bool(sites) and not sites[0]["online"]

        deadline = time.monotonic() + 10
        while not await arrived():
            assert time.monotonic() < deadline, await center.store.sites()
            await asyncio.sleep(0.02)
        replies = await center.store.replies()
        found = {(r["site"], r["answers"], r["request_id"], r["ok"]) for r in replies}
        assert found == {
            ("site-001", "acks", "r-1", False), ("site-002", "cmd/maintenance", "r-2", True),
            ("site-002", "cmd/status", "r-3", True), ("site-002", "cmd/tickets", None, False),
        }  # fmt: skip
        assert (await center.store.reply_to("r-1") or {})["error"] == "no open ticket 't-9'"
        ((topic, _event, reason),) = await center.store.rejected()
        assert (topic, reason.split(":")[0]) == ("lvgw/v1/site-002/acks-reply", "not a reply")
        (site,) = await center.store.sites()
        assert (site["version"], site["refused_replies"]) == ("1", 1)
