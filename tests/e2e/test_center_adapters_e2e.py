"""lvgw-center's adapters end to end, every part real and run as a user runs it: a
simulated switch (`lvgw-sim run`) -> the gateway (`lvgw run`) -> mosquitto ->
`lvgw-center run` -> a webhook receiver, a real Alertmanager (Debian's) and a real SMTP
server (aiosmtpd, STARTTLS and AUTH). A fault opens one ticket in each, clearing
resolves it in each."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.delivery.certs import CertAuthority
from tests.e2e.conftest import validate
from tests.e2e.test_center_e2e import (
    FLEET,
    HOOK_KEY,
    center_and_gateway,
    center_cli,
    receiving_hook,
    secret,
    site_file,
)
from tests.realservers import Alertmanager, Mosquitto, SmtpServer, running
from tests.simulators.conftest import SimFleet, fleet_with_site, free_port_on

pytestmark = pytest.mark.e2e
SITE = "site-a2e"


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[SimFleet]:
    workdir = tmp_path / "fleet"
    with fleet_with_site(workdir, FLEET % (SITE, free_port_on("127.0.0.1"))) as (sim, _):
        yield sim


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[Alertmanager]:
    with running(Alertmanager(tmp_path / "alertmanager")) as server:
        assert isinstance(server, Alertmanager)
        yield server


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[SmtpServer, CertAuthority]]:
    ca = CertAuthority(tmp_path / "ca")
    pair = ca.issue("mail.test", server=True)
    server = SmtpServer(pair.cert, pair.key, "lvgw", "mail-pass")
    server.start()
    try:
        yield server, ca
    finally:
        server.stop()


def center_yaml(tmp: Path, broker: Mosquitto, hook_url: str, am: Alertmanager,
                smtp: SmtpServer, ca: CertAuthority) -> Path:  # fmt: skip
    secret(tmp / "hook.secret", HOOK_KEY)
    secret(tmp / "smtp.password", b"mail-pass")
    path = tmp / "center.yaml"
    path.write_text(
        f"broker: {{host: {broker.host}, port: {broker.port}, client_id: center-a2e}}\n"
        f"database: sqlite:///{tmp}/center.db\n"
        "adapters:\n"
        f"  - {{type: webhook, url: '{hook_url}',"
        " secret_file: hook.secret, backoff_initial: 0.2s, backoff_max: 1s}\n"
        f"  - {{type: alertmanager, url: '{am.url}', resend: 1s,"
        " backoff_initial: 0.2s, backoff_max: 1s}\n"
        "  - type: email\n"
        f"    smtp: {{host: {smtp.host}, port: {smtp.port}, username: lvgw,"
        f" password_file: smtp.password, tls: {{ca: {ca.ca.cert}}}}}\n"
        "    from: lvgw@center.example\n"
        "    to: [helpdesk@desk.example]\n"
        "    backoff_initial: 0.2s\n"
        "    backoff_max: 1s\n"
    )
    return path


async def alerts_of(am: Alertmanager, ticket: str) -> list[dict[str, Any]]:
    found = await asyncio.to_thread(am.alerts)
    return [a for a in found if a["labels"]["ticket_id"] == ticket]


async def until(what: str, check: Any, timeout: float = 30) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not await check():
                await asyncio.sleep(0.2)
    except TimeoutError:
        pytest.fail(f"no {what} within {timeout} s")


async def test_a_fault_opens_one_ticket_in_each_tool_and_clearing_resolves_it(
    tmp_path: Path,
    mosquitto: Mosquitto,
    fleet: SimFleet,
    alertmanager: Alertmanager,
    smtp: tuple[SmtpServer, CertAuthority],
) -> None:
    mail, ca = smtp
    key = secret(tmp_path / "command.key", b"site-a2e command key, 32 bytes..")
    config = site_file(fleet.workdir / "site.yaml", mosquitto, tmp_path / "state", key)
    center_log = tmp_path / "center.log"
    async with receiving_hook() as hook:
        center_config = center_yaml(tmp_path, mosquitto, hook.url, alertmanager, mail, ca)
        async with center_and_gateway(center_config, config, tmp_path):
            await asyncio.to_thread(fleet.client.inject, "sw-core", "down", {})

            # One ticket opened in each tool.
            await hook.wait_for("open", lambda: hook.events, timeout=60)
            opened = hook.events[0]
            validate(opened)
            ticket, level = opened["ticket_id"], f"L{opened['severity']}"

            async def alert_open() -> bool:
                return len(await alerts_of(alertmanager, ticket)) == 1

            await until("alert in Alertmanager", alert_open)
            (alert,) = await alerts_of(alertmanager, ticket)
            assert alert["labels"] | {"ticket_id": ticket} == {
                "alertname": "device.unreachable", "code": "device.unreachable",
                "site": SITE, "device": "sw-core", "severity": level,
                "customer": opened["site"]["customer"]["name"], "ticket_id": ticket,
            }  # fmt: skip
            assert alert["annotations"]["response_due"] == opened["response_due"]

            async def mailed(count: int) -> bool:
                return len(mail.received) >= count

            await until("mail", lambda: mailed(1))
            first = mail.received[0].message()
            assert first["Subject"] == f"[{level}] {SITE}: {opened['title']}"
            assert first["Message-ID"] == f"<{ticket}@center.example>"
            assert mail.received[0].tls

            # Clearing resolves it in each.
            await asyncio.to_thread(fleet.client.clear, "sw-core", "down", {})
            await hook.wait_for(
                "resolve", lambda: any(e["event"] == "resolve" for e in hook.of(ticket))
            )
            events = hook.of(ticket)
            assert [e["event"] for e in events].count("open") == 1

            async def alert_gone() -> bool:
                return await alerts_of(alertmanager, ticket) == []

            await until("the alert resolved", alert_gone)
            await until("every event mailed", lambda: mailed(len(events)))
            last = mail.received[-1].message()
            now_level = f"L{events[-1]['severity']}"
            assert last["Subject"] == f"Re: [{now_level}] {SITE}: {events[-1]['title']}"
            assert last["In-Reply-To"] == f"<{ticket}@center.example>"
            assert last.get_content().startswith(f"Resolved: {now_level}")

            code, out = await center_cli("tickets", "--json", "-c", str(center_config))
            assert code == 0, out
            (row,) = [t for t in json.loads(out) if t["ticket_id"] == ticket]
            assert row["state"] == "resolved"
            assert row["deliveries"] == {
                adapter: {"delivered": len(events)}
                for adapter in ("webhook", "alertmanager", "email")
            }
    assert "Traceback" not in center_log.read_text()
