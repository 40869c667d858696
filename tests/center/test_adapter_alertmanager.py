"""The alertmanager adapter against a real Alertmanager (Debian's
prometheus-alertmanager), read back over its API v2 (GET /api/v2/alerts, which lists
the alerts not resolved) and through its own webhook receiver."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from center.ledger import LedgerUrl
from center.service import Center
from gateway.model import Level
from tests.center.conftest import (
    AlertmanagerUnderTest,
    center_file,
    load,
    publish,
    running,
    until,
    wait_counts,
)
from tests.center.events import ticket_event
from tests.delivery.certs import CertAuthority
from tests.realservers import Alertmanager, Mosquitto

pytestmark = pytest.mark.integration
RESEND = 1.0  # each post holds an open alert for 4 x 1 s
LONG = 60.0  # for tests where an alert must not lapse on its own


def am_center(
    tmp_path: Path,
    mosquitto: Mosquitto,
    url: str,
    more: str = "",
    resend: float = RESEND,
    ledger: LedgerUrl | None = None,
) -> Center:
    adapters = (
        f"[{{type: alertmanager, url: '{url}', resend: {resend}, levels: [1, 2],"
        f" backoff_initial: 0.05, backoff_max: 0.2{more}}}]"
    )
    return Center(load(center_file(tmp_path, mosquitto, adapters, ledger=ledger)))


def instant(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


async def alerts(am: Alertmanager) -> list[dict[str, Any]]:
    return await asyncio.to_thread(am.alerts)


async def wait_alerts(am: Alertmanager, predicate: Any, what: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 15
    found = await alerts(am)
    while not predicate(found):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within 15 s: {found}")
        await asyncio.sleep(0.05)
        found = await alerts(am)
    return found


async def test_a_ticket_opens_an_alert_and_its_resolve_ends_it(
    tmp_path: Path, mosquitto: Mosquitto, alertmanager: AlertmanagerUnderTest
) -> None:
    am = alertmanager.server
    center = am_center(tmp_path, mosquitto, am.url, resend=LONG)
    async with running(center):
        await publish(mosquitto, [ticket_event("site-001-t1", 1)])
        await wait_counts(center, {"alertmanager": {"delivered": 1}})
        (alert,) = await wait_alerts(am, lambda found: len(found) == 1, "the alert")
        assert alert["labels"] == {
            "alertname": "device.unreachable",
            "code": "device.unreachable",
            "site": "site-001",
            "device": "sw-core",
            "severity": "L1",
            "customer": "ACME",
            "ticket_id": "site-001-t1",
        }
        notes = alert["annotations"]
        assert notes["title"] == notes["summary"] == "Switch sw-core is unreachable"
        assert notes["response_due"] == "2026-11-22T10:46:46.000Z"
        assert notes["onsite_due"] == "2026-11-22T12:36:46.000Z"
        assert notes["event"] == "open"
        assert "Respond by: 2026-11-22 10:46:46 UTC" in notes["description"]
        assert alert["status"]["state"] == "active"
        assert alert["startsAt"] == "2026-11-22T10:36:46.000Z"
        assert time.time() + 3 * LONG < instant(alert["endsAt"]) <= time.time() + 4 * LONG
        # Alertmanager's receivers take it from there.
        await until(lambda: alertmanager.notifications(), "Alertmanager's notification")
        (firing,) = alertmanager.notifications()[0]["alerts"]
        assert firing["status"] == "firing"
        assert firing["labels"]["ticket_id"] == "site-001-t1"

        await publish(mosquitto, [ticket_event("site-001-t1", 2, "resolve")])
        await wait_counts(center, {"alertmanager": {"delivered": 2}})
        await wait_alerts(am, lambda found: found == [], "the alert resolved")

        def resolved() -> list[dict[str, Any]]:
            return [a for n in alertmanager.notifications() for a in n["alerts"]
                    if a["status"] == "resolved"]  # fmt: skip

        await until(resolved, "Alertmanager's resolved notification")
        assert resolved()[0]["endsAt"] == "2026-11-22T11:36:46Z"  # the ticket's resolved_at


async def test_an_open_alert_is_posted_again_and_stays_active(
    tmp_path: Path, mosquitto: Mosquitto, alertmanager: AlertmanagerUnderTest
) -> None:
    am = alertmanager.server
    center = am_center(tmp_path, mosquitto, am.url)
    async with running(center):
        await publish(mosquitto, [ticket_event("t-1", 1)])
        (first,) = await wait_alerts(am, lambda found: len(found) == 1, "the alert")
        await asyncio.sleep(4 * RESEND * 2)  # twice as long as one post holds it
        (later,) = await alerts(am)
        assert later["status"]["state"] == "active"
        assert instant(later["endsAt"]) > instant(first["endsAt"]) + 4 * RESEND
        assert later["updatedAt"] != first["updatedAt"]
    # Nothing posts it any more: it lapses (this is what the re-posting prevents).
    await wait_alerts(am, lambda found: found == [], "the alert lapsing")


async def test_a_restarted_alertmanager_gets_the_open_alerts_back(
    tmp_path: Path, mosquitto: Mosquitto, alertmanager: AlertmanagerUnderTest
) -> None:
    """Alertmanager keeps alerts in memory only; the center's ledger has them. An event
    sent while it is down is retried and delivered once it is back."""
    am = alertmanager.server
    center = am_center(tmp_path, mosquitto, am.url)
    async with running(center):
        await publish(mosquitto, [ticket_event("t-1", 1)])
        await wait_alerts(am, lambda found: len(found) == 1, "the alert")
        await asyncio.to_thread(am.stop)
        await publish(mosquitto, [ticket_event("t-2", 1)])
        await until(lambda: not am.running, "Alertmanager stopped")
        await asyncio.sleep(4 * RESEND)  # a re-post and t-2's first attempt fail
        counts = await center.store.delivery_counts()
        assert counts == {"alertmanager": {"delivered": 1, "pending": 1}}
        restarted = Alertmanager(tmp_path / "alertmanager-2", port=am.port)  # empty state
        await asyncio.to_thread(restarted.start)
        try:
            found = await wait_alerts(restarted, lambda found: len(found) == 2, "both alerts")
            await wait_counts(center, {"alertmanager": {"delivered": 2}})
        finally:
            restarted.stop()
    assert sorted(a["labels"]["ticket_id"] for a in found) == ["t-1", "t-2"]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_a_restarted_center_posts_the_open_alerts_from_its_ledger(
    tmp_path: Path,
    mosquitto: Mosquitto,
    alertmanager: AlertmanagerUnderTest,
    engine: str,
    request: pytest.FixtureRequest,
) -> None:
    am = alertmanager.server
    ledger = request.getfixturevalue("pg_ledger") if engine == "postgresql" else None
    async with running(am_center(tmp_path, mosquitto, am.url, ledger=ledger)):
        await publish(mosquitto, [ticket_event("t-1", 1), ticket_event("t-2", 1),
                                  ticket_event("t-2", 2, "resolve"), ticket_event("t-3", 1),
                                  ticket_event("t-3", 2, "update", severity=3,
                                               previous_severity=Level(1))])  # fmt: skip
        await wait_alerts(am, lambda found: len(found) == 2, "t-1's and t-3's alerts")
    await wait_alerts(am, lambda found: found == [], "the alerts lapsing while the center is away")
    async with running(am_center(tmp_path, mosquitto, am.url, ledger=ledger)):
        (alert,) = await wait_alerts(am, lambda found: len(found) == 1, "t-1's alert again")
    # t-2 was resolved, t-3 went to L3, which the adapter does not take: neither is
    # posted again.
    assert alert["labels"]["ticket_id"] == "t-1"


async def test_a_change_of_level_resolves_the_former_levels_alert(
    tmp_path: Path, mosquitto: Mosquitto, alertmanager: AlertmanagerUnderTest
) -> None:
    am = alertmanager.server
    center = am_center(tmp_path, mosquitto, am.url, resend=LONG)
    async with running(center):
        await publish(mosquitto, [ticket_event("t-1", 1, severity=2)])
        await wait_alerts(am, lambda found: len(found) == 1, "the L2 alert")
        raised = ticket_event("t-1", 2, "update", severity=1, previous_severity=Level(2))
        await publish(mosquitto, [raised])
        (alert,) = await wait_alerts(
            am, lambda found: [a["labels"]["severity"] for a in found] == ["L1"], "L1 only"
        )
        assert alert["annotations"]["event"] == "update"


async def test_an_answer_other_than_2xx_is_retried_then_dead_lettered(
    tmp_path: Path,
    mosquitto: Mosquitto,
    alertmanager: AlertmanagerUnderTest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    am = alertmanager.server
    center = am_center(tmp_path, mosquitto, f"{am.url}/wrong/prefix", ", dead_after: 2")
    async with running(center):
        await publish(mosquitto, [ticket_event("t-1", 1)])
        await wait_counts(center, {"alertmanager": {"dead": 1}})
    assert await alerts(am) == []
    assert "HTTP 404 Not Found" in caplog.text


async def test_each_instance_of_a_cluster_gets_the_alerts(
    tmp_path: Path, mosquitto: Mosquitto, alertmanager: AlertmanagerUnderTest
) -> None:
    """Two Alertmanagers (clustering off, so neither hears of the other's alerts): an
    event is delivered while one is down, and that one has it once it is back."""
    first = alertmanager.server
    second = Alertmanager(tmp_path / "alertmanager-2")
    adapters = (
        f"[{{type: alertmanager, url: ['{first.url}', '{second.url}'], resend: {RESEND},"
        " backoff_initial: 0.05, backoff_max: 0.2}]"
    )
    center = Center(load(center_file(tmp_path, mosquitto, adapters)))
    async with running(center):
        await publish(mosquitto, [ticket_event("t-1", 1)])  # the second not started yet
        await wait_counts(center, {"alertmanager": {"delivered": 1}})
        await wait_alerts(first, lambda found: len(found) == 1, "the alert at the first")
        await asyncio.to_thread(second.start)
        try:
            (alert,) = await wait_alerts(second, lambda found: len(found) == 1, "at the second")
        finally:
            second.stop()
    assert alert["labels"]["ticket_id"] == "t-1"


async def test_https_with_a_private_ca(
    tmp_path: Path, mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    """Alertmanager serving https (its --web.config.file) with a certificate of a CA
    made here: taken with tls.ca, refused without it."""
    ca = CertAuthority(tmp_path / "ca")
    pair = ca.issue("alertmanager", server=True)
    am = Alertmanager(tmp_path / "alertmanager", tls=(pair.cert, pair.key, ca.ca.cert))
    await asyncio.to_thread(am.start)
    try:
        trusted = am_center(tmp_path, mosquitto, am.url, f", tls: {{ca: {ca.ca.cert}}}")
        async with running(trusted):
            await publish(mosquitto, [ticket_event("t-1", 1)])
            await wait_counts(trusted, {"alertmanager": {"delivered": 1}})
        (alert,) = await alerts(am)
        assert alert["labels"]["ticket_id"] == "t-1"
        center = am_center(tmp_path, mosquitto, am.url, ", dead_after: 1")  # no tls
        async with running(center):
            await publish(mosquitto, [ticket_event("t-2", 1)])
            await wait_counts(center, {"alertmanager": {"dead": 1, "delivered": 1}})
    finally:
        am.stop()
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
