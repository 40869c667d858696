"""The email adapter against a real SMTP server (aiosmtpd) that requires STARTTLS (a
certificate of a CA made here) and AUTH: headers, threading and body of what it
receives, and the refusals that must not send a password in clear."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from center.adapters import DeliveryError
from center.adapters.mail import MailAdapter
from center.config import Email
from center.ledger import Delivery
from center.service import Center
from tests.center.conftest import center_file, load, publish, running, wait_counts, write_secret
from tests.center.events import T0, ticket_event
from tests.delivery.certs import CertAuthority
from tests.realservers import Mosquitto, SmtpServer

pytestmark = pytest.mark.integration
USER, PASSWORD = "lvgw", "mail-pass"


@pytest.fixture
def ca(tmp_path: Path) -> CertAuthority:
    return CertAuthority(tmp_path / "ca")


@pytest.fixture(params=["PLAIN", "LOGIN"])
def smtp(request: pytest.FixtureRequest, ca: CertAuthority) -> Iterator[SmtpServer]:
    """STARTTLS required, then AUTH by the one mechanism of the test's parameter."""
    pair = ca.issue("mail.test", server=True)
    other = "LOGIN" if request.param == "PLAIN" else "PLAIN"
    server = SmtpServer(pair.cert, pair.key, USER, PASSWORD, exclude=(other,))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def smtp_settings(
    tmp_path: Path, server: SmtpServer, ca: CertAuthority | None, more: str = ""
) -> str:
    write_secret(tmp_path / "smtp.password", PASSWORD.encode() + b"\n")
    tls = f", tls: {{ca: {ca.ca.cert}}}" if ca is not None else ""
    return (
        f"smtp: {{host: {server.host}, port: {server.port}, username: {USER},"
        f" password_file: smtp.password{tls}{more}}}"
    )


async def test_one_thread_per_ticket_over_starttls_and_auth(
    tmp_path: Path, mosquitto: Mosquitto, smtp: SmtpServer, ca: CertAuthority
) -> None:
    adapters = (
        f"[{{type: email, {smtp_settings(tmp_path, smtp, ca)}, from: lvgw@center.example,"
        " to: [helpdesk@desk.example, oncall@desk.example],"
        " backoff_initial: 0.05, backoff_max: 0.2}]"
    )
    center = Center(load(center_file(tmp_path, mosquitto, adapters)))
    published = [
        ticket_event("site-001-20261122-103646-a1b2c3", 1),
        ticket_event("site-001-20261122-103646-a1b2c3", 2, "update",
                     acked_at=T0.replace(minute=41)),
        ticket_event("site-001-20261122-103646-a1b2c3", 3, "resolve"),
    ]  # fmt: skip
    async with running(center):
        await publish(mosquitto, published)
        await wait_counts(center, {"email": {"delivered": 3}})
    assert len(smtp.received) == 3
    for mail in smtp.received:
        assert mail.tls, "the mail went before STARTTLS"
        assert mail.login == f"{smtp.mechanisms[0]}:{USER}"
        assert mail.mail_from == "lvgw@center.example"
        assert mail.rcpt_tos == ["helpdesk@desk.example", "oncall@desk.example"]
    opened, acked, resolved = (mail.message() for mail in smtp.received)
    root = "<site-001-20261122-103646-a1b2c3@center.example>"
    assert opened["Subject"] == "[L1] site-001: Switch sw-core is unreachable"
    assert opened["Message-ID"] == root
    assert opened["In-Reply-To"] is None and opened["References"] is None
    assert opened["From"] == "lvgw@center.example"
    assert opened["To"] == "helpdesk@desk.example, oncall@desk.example"
    assert opened["Date"] == "Sun, 22 Nov 2026 10:36:47 +0000"  # the event's emitted_at
    assert opened["X-Lvgw-Ticket-Id"] == "site-001-20261122-103646-a1b2c3"
    assert opened.get_content_type() == "text/plain"
    body = opened.get_content()
    assert body.startswith("Opened: L1, system down")
    assert "Respond by: 2026-11-22 10:46:46 UTC" in body
    assert "On site by: 2026-11-22 12:36:46 UTC" in body

    assert acked["Subject"] == "Re: [L1] site-001: Switch sw-core is unreachable"
    assert acked["Message-ID"] == "<site-001-20261122-103646-a1b2c3.2@center.example>"
    assert acked["In-Reply-To"] == root
    assert acked["References"] == root
    assert "Acknowledged: 2026-11-22 10:41:46 UTC by desk-7" in acked.get_content()

    assert resolved["Message-ID"] == "<site-001-20261122-103646-a1b2c3.3@center.example>"
    assert resolved["In-Reply-To"] == root
    assert resolved["References"] == (f"{root} <site-001-20261122-103646-a1b2c3.2@center.example>")
    assert resolved.get_content().startswith("Resolved: L1")


def adapter(
    tmp_path: Path, server: SmtpServer, ca: CertAuthority | None, password: str = PASSWORD
) -> MailAdapter:
    write_secret(tmp_path / "smtp.password", password.encode() + b"\n")
    settings = {
        "host": server.host,
        "port": server.port,
        "username": USER,
        "password_file": tmp_path / "smtp.password",
        **({"tls": {"ca": ca.ca.cert}} if ca is not None else {}),
    }
    return MailAdapter(Email.model_validate(
        {"type": "email", "smtp": settings, "from": "lvgw@center.example",
         "to": ["helpdesk@desk.example"], "timeout": 10}
    ))  # fmt: skip


async def send(mail: MailAdapter) -> None:
    await mail.send(Delivery(1, "email", "e-1", "t-1", 0, ticket_event("t-1", 1)))


async def test_a_wrong_password_is_a_failed_attempt(
    tmp_path: Path, smtp: SmtpServer, ca: CertAuthority
) -> None:
    with pytest.raises(DeliveryError, match="SMTP 535"):
        await send(adapter(tmp_path, smtp, ca, password="wrong"))
    assert smtp.received == [] and smtp.refused_logins == 1


async def test_a_server_certificate_not_trusted_is_refused(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    """Without the CA the certificate does not verify: nothing is sent, the password
    least of all."""
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        await send(adapter(tmp_path, smtp, None))
    assert smtp.received == [] and smtp.refused_logins == 0


async def test_a_server_without_starttls_gets_no_password(tmp_path: Path) -> None:
    plain = SmtpServer(None, None, USER, PASSWORD)  # no TLS at all
    await asyncio.to_thread(plain.start)
    try:
        with pytest.raises(DeliveryError, match="STARTTLS extension not supported"):
            await send(adapter(tmp_path, plain, None))
    finally:
        plain.stop()
    assert plain.received == [] and plain.refused_logins == 0
