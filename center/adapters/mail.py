"""The ``email`` adapter: each ticket event as a mail, one thread per ticket, for a
helpdesk's mail intake (Request Tracker, Zammad, GLPI, osTicket file a thread as one
ticket).

- ``Subject: [L1] <site>: <title>`` (``Re: `` before it on the ticket's later events).
- ``Message-ID``: from the ticket id, ``<TICKET@DOMAIN>`` for its first event and
  ``<TICKET.SEQ@DOMAIN>`` for the later ones; a retried delivery carries the same
  one, so a helpdesk that deduplicates on it files it once.
- Later events: ``In-Reply-To: <TICKET@DOMAIN>`` and ``References`` the first
  message and the ones before (the last ten), so the thread holds even when an
  event between was not sent (its level not taken by this adapter).
- A plain text body (UTF-8): what happened, the site, customer and device, and the
  ticket's clocks.

Sent with the standard library's smtplib, on a thread: SMTP submission (RFC 6409),
STARTTLS (RFC 3207) or TLS from the first byte (RFC 8314), then AUTH. The server's
certificate is checked (``smtp.tls.ca`` for a private CA); one connection per mail,
which is plenty at the rate tickets come. A mail the server takes for some of the
recipients only is delivered (retrying would send it again to the others); the
refused ones are logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from hashlib import sha256
from typing import Any

from center.adapters import DeliveryError
from center.adapters.http import tls_context
from center.adapters.text import describe, plain
from center.config import Email
from center.ledger import Delivery
from gateway.config.types import read_secret_file

log = logging.getLogger("lvgw-center.email")

REFERENCES_KEPT = 10  # earlier messages named in References besides the first
# What a Message-ID's left part may hold as it is (RFC 5322 dot-atom-text, less '/').
_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+=?^_`{|}~-]+)*$")


def message_id(ticket_id: str, seq: int, domain: str) -> str:
    """``<TICKET@DOMAIN>`` for the first event, ``<TICKET.SEQ@DOMAIN>`` after."""
    left = ticket_id
    if not _ATOM.match(left):  # kept readable and still one per ticket
        left = re.sub(r"[^A-Za-z0-9-]+", "-", ticket_id).strip("-") or "ticket"
        left += "-" + sha256(ticket_id.encode()).hexdigest()[:12]
    return f"<{left}@{domain}>" if seq == 1 else f"<{left}.{seq}@{domain}>"


def compose(settings: Email, event: dict[str, Any]) -> EmailMessage:
    text = describe(event)
    ticket_id, seq, domain = event["ticket_id"], event["seq"], settings.id_domain
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.to)
    message["Subject"] = text.subject if seq == 1 else f"Re: {text.subject}"
    # When the gateway wrote the event: the same on every retry.
    message["Date"] = format_datetime(datetime.fromisoformat(event["emitted_at"]))
    message["Message-ID"] = message_id(ticket_id, seq, domain)
    if seq > 1:
        first = message_id(ticket_id, 1, domain)
        earlier = [
            message_id(ticket_id, s, domain) for s in range(max(2, seq - REFERENCES_KEPT), seq)
        ]
        message["In-Reply-To"] = first
        message["References"] = " ".join([first, *earlier])
    message["X-Lvgw-Ticket-Id"] = ticket_id
    message["X-Lvgw-Event-Id"] = event["event_id"]
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
    message.set_content(plain(text))
    return message


class MailAdapter:
    def __init__(self, settings: Email) -> None:
        self.name = settings.name
        self.settings = settings
        smtp = settings.smtp
        password_file = smtp.password_file
        self._password = read_secret_file(password_file).reveal() if password_file else None
        self._tls = tls_context(smtp.tls) or ssl.create_default_context()

    async def send(self, delivery: Delivery) -> None:
        message = compose(self.settings, json.loads(delivery.payload))
        try:
            refused = await asyncio.to_thread(self._submit, message)
        except (smtplib.SMTPException, OSError) as exc:  # ssl.SSLError and timeouts too
            raise DeliveryError(_said(exc)) from exc
        if refused:
            log.warning("adapter %s: event %s: the server refused %s",
                        self.name, delivery.event_id, _said_refused(refused))  # fmt: skip

    def _submit(self, message: EmailMessage) -> dict[str, tuple[int, bytes]]:
        smtp = self.settings.smtp
        timeout = self.settings.timeout
        client: smtplib.SMTP
        if smtp.implicit_tls:
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=self._tls)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
        with client:
            if smtp.starttls:
                client.starttls(context=self._tls)
            if smtp.username is not None and self._password is not None:
                client.login(smtp.username, self._password)
            return client.send_message(message)

    async def maintain(self) -> None:
        return None

    async def close(self) -> None:
        return None


def _said(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        error = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else exc.smtp_error
        )
        return f"SMTP {exc.smtp_code} {error}".strip()
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"every recipient refused: {_said_refused(exc.recipients)}"
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


def _said_refused(refused: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(
        f"{rcpt} ({code} {reply.decode(errors='replace')})"
        for rcpt, (code, reply) in refused.items()
    )
