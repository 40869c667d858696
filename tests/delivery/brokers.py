"""mosquitto set up as a service center's broker: persistent, or with TLS, passwords and ACLs.

Both reuse the shared launcher (tests/realservers.py) and differ only in their config.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from tests.delivery.certs import CertAuthority, KeyPair
from tests.realservers import Mosquitto, free_port, tcp_open, which


class PersistentMosquitto(Mosquitto):
    """A broker that keeps sessions and queued messages across a crash.

    ``autosave_interval 1`` writes the in-memory state every second, so a SIGKILL
    loses at most that second of queued messages for offline clients; messages to
    online clients are forwarded before the publisher's PUBACK. ``max_queued_messages
    0`` lifts mosquitto's default of 1,000 queued messages per offline client, which a
    backlog burst after an outage would overflow (silently dropping tickets).
    """

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        super().__init__(
            workdir,
            extra_config=(
                "persistence true\n"
                f"persistence_location {workdir}/\n"
                "autosave_interval 1\n"
                "max_queued_messages 0\n"
            ),
            port=port,
        )
        self.db = workdir / "mosquitto.db"

    def saved_since(self, mtime_ns: int) -> bool:
        """Has the broker written its state file after ``mtime_ns``?"""
        return self.db.exists() and self.db.stat().st_mtime_ns > mtime_ns


class SecureMosquitto(Mosquitto):
    """Three listeners on one broker (``per_listener_settings``):

    - ``port``: anonymous, plain (the test's own observer);
    - ``tls_port``: TLS that requires a client certificate signed by the test CA, the
      certificate's CN being the MQTT user name (mutual TLS);
    - ``acl_port``: plain, user name and password from ``passwords``, topics by the
      ACL file ``acl`` (rewrite it and call `reload()`).
    """

    def __init__(self, workdir: Path, authority: CertAuthority) -> None:
        super().__init__(workdir)
        self.tls_port = free_port()
        self.acl_port = free_port()
        self.server: KeyPair = authority.issue("broker", server=True)
        self.passwords = workdir / "passwords"
        self.acl = workdir / "acl"
        self.acl.write_text("")
        self.conf.write_text(
            "per_listener_settings true\n"
            "persistence false\n"
            "user root\n"
            f"listener {self.port} {self.host}\n"
            "allow_anonymous true\n"
            f"listener {self.tls_port} {self.host}\n"
            f"cafile {authority.ca.cert}\n"
            f"certfile {self.server.cert}\n"
            f"keyfile {self.server.key}\n"
            "require_certificate true\n"
            "use_identity_as_username true\n"
            f"acl_file {self.acl}\n"
            f"listener {self.acl_port} {self.host}\n"
            "allow_anonymous false\n"
            f"password_file {self.passwords}\n"
            f"acl_file {self.acl}\n"
        )

    def ready(self) -> bool:
        return all(tcp_open(self.host, p) for p in (self.port, self.tls_port, self.acl_port))

    def add_user(self, user: str, password: str) -> None:
        create = [] if self.passwords.exists() else ["-c"]
        subprocess.run(
            [which("mosquitto_passwd"), *create, "-b", str(self.passwords), user, password],
            check=True,
            capture_output=True,
        )

    def reload(self) -> None:
        """Make mosquitto re-read its password and ACL files (SIGHUP)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGHUP)
