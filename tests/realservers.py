"""Real third-party servers for tests (the same launchers `lvgw demo` uses), and
Alertmanager and an SMTP server for lvgw-center's adapters."""

from __future__ import annotations

import email
import email.policy
import json
import ssl
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from gateway.demo.processes import (
    Mosquitto,
    Server,
    Snmpd,
    free_port,
    running,
    snmp_answers,
    tcp_open,
    wait_until,
    which,
)

__all__ = [
    "Alertmanager",
    "Mosquitto",
    "Received",
    "Server",
    "SmtpServer",
    "Snmpd",
    "free_port",
    "running",
    "snmp_answers",
    "tcp_open",
    "wait_until",
    "which",
]


class Alertmanager(Server):
    """Debian's prometheus-alertmanager on a free loopback port, clustering off, its
    state in ``workdir``; ``notify_url`` (a webhook receiver) gets its notifications,
    grouped per ticket and sent at once."""

    name = "alertmanager"

    def __init__(
        self,
        workdir: Path,
        notify_url: str | None = None,
        port: int | None = None,
        tls: tuple[Path, Path, Path] | None = None,  # (certificate, key, CA): serve https
    ) -> None:
        super().__init__(workdir)
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.tls = tls
        self.config = workdir / "alertmanager.yml"
        self.web_config = workdir / "web.yml"
        if tls is not None:  # its --web.config.file (the exporter-toolkit's format)
            cert, key, _ca = tls
            self.web_config.write_text(
                json.dumps({"tls_server_config": {"cert_file": str(cert), "key_file": str(key)}})
            )
        receiver: dict[str, Any] = {"name": "desk"}
        if notify_url is not None:
            receiver["webhook_configs"] = [{"url": notify_url, "send_resolved": True}]
        config = {
            "route": {
                "receiver": "desk",
                "group_by": ["ticket_id"],
                "group_wait": "0s",
                "group_interval": "1s",
                "repeat_interval": "1h",
            },
            "receivers": [receiver],
        }
        self.config.write_text(json.dumps(config))  # JSON is YAML

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def command(self) -> list[str]:
        return [
            which("prometheus-alertmanager"),
            f"--config.file={self.config}",
            f"--storage.path={self.workdir / 'data'}",
            f"--web.listen-address={self.host}:{self.port}",
            *([f"--web.config.file={self.web_config}"] if self.tls else []),
            "--cluster.listen-address=",  # no gossip: one instance, no port of its own
            "--log.level=warn",
        ]

    def _get(self, path: str, timeout: float) -> bytes:
        context = ssl.create_default_context(cafile=self.tls[2]) if self.tls else None
        with urllib.request.urlopen(f"{self.url}{path}", timeout=timeout, context=context) as got:
            body: bytes = got.read()
            return body

    def ready(self) -> bool:
        try:
            self._get("/-/ready", 0.5)
            return True
        except OSError:
            return False

    def alerts(self, **filters: str) -> list[dict[str, Any]]:
        """GET /api/v2/alerts (its filters: active, silenced, inhibited, unprocessed)."""
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        found: list[dict[str, Any]] = json.loads(self._get(f"/api/v2/alerts?{query}", 5))
        return found


@dataclass
class Received:
    """One mail as the SMTP server took it, with how the session was."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    tls: bool  # the session had switched to TLS (STARTTLS) before the mail
    login: str | None  # how it authenticated: "MECHANISM:user"

    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class SmtpServer:
    """A real SMTP server (aiosmtpd, on its own thread) on a free loopback port:
    STARTTLS with ``cert`` and ``key`` and required before anything else, then AUTH
    (LOGIN and PLAIN, less ``exclude``) as ``user``/``password``; keeps every mail."""

    def __init__(
        self,
        cert: Path | None,
        key: Path | None,
        user: str,
        password: str,
        exclude: tuple[str, ...] = (),
    ) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.user, self.password = user, password
        self.mechanisms = tuple(m for m in ("LOGIN", "PLAIN") if m not in exclude)
        self.received: list[Received] = []
        self.refused_logins = 0
        tls = None
        if cert is not None and key is not None:
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(cert, key)
        self._controller = Controller(
            self,
            hostname=self.host,
            port=self.port,
            tls_context=tls,
            require_starttls=tls is not None,
            auth_required=tls is not None,  # aiosmtpd warns of AUTH required without TLS
            auth_require_tls=tls is not None,
            auth_exclude_mechanism=list(exclude),
            authenticator=self._authenticate,
        )

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword) and (data.login, data.password) == (
            self.user.encode(),
            self.password.encode(),
        ):
            return AuthResult(success=True, auth_data=f"{mechanism}:{self.user}")
        self.refused_logins += 1
        return AuthResult(success=False, handled=False)

    # aiosmtpd calls its handler's hooks by these names.
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = str(session.auth_data) if session.authenticated else None
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
                     or envelope.content, session.ssl is not None, login)
        )  # fmt: skip
        return "250 OK"

    def start(self) -> None:
        self._controller.start()  # returns once the server answers

    def stop(self) -> None:
        self._controller.stop()
