"""A real PostgreSQL server from Debian's packages, for tests and benchmarks.

`Postgres` runs initdb in a directory of its own and the server in the foreground on a
free loopback port, its unix socket in that directory too. PostgreSQL refuses to run
as root, so as root both run as ``nobody`` (setpriv execs, so the process we hold is
the server itself and a kill reaches it). Clients log in as ``lvgw`` with a password
(scram-sha-256 over TCP), which `password_file` holds, as CENTER.yaml would name it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from gateway.demo.processes import Server, free_port

BIN = Path("/usr/lib/postgresql/15/bin")
USER = "lvgw"


def available() -> bool:
    return (BIN / "postgres").exists()


class Postgres(Server):
    name = "postgres"

    def __init__(self, port: int | None = None, settings: dict[str, str] | None = None) -> None:
        # Not under pytest's tmp_path: that is root's alone, and the server runs as nobody.
        root = Path(tempfile.mkdtemp(prefix="lvgw-pg-"))
        super().__init__(root)
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.data = root / "data"
        self.password_file = root / "password"
        self.password_file.write_text(uuid.uuid4().hex + "\n")
        self.password_file.chmod(0o600)
        self.settings = {"fsync": "on", "max_connections": "200", **(settings or {})}
        self._as = _unprivileged()
        if self._as is not None:
            os.chown(root, self._as[0], self._as[1])
        self._initdb()

    def _run_as(self) -> list[str]:
        if self._as is None:
            return []
        uid, gid = self._as
        return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]

    def _initdb(self) -> None:
        pwfile = self.workdir / "initdb.pw"
        pwfile.write_text(self.password_file.read_text())
        if self._as is not None:
            os.chown(pwfile, *self._as)
        subprocess.run(
            [*self._run_as(), str(BIN / "initdb"), "-D", str(self.data), "-U", USER,
             f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            check=True, capture_output=True,
        )  # fmt: skip
        pwfile.unlink()

    def command(self) -> list[str]:
        options = [f"-c{name}={value}" for name, value in self.settings.items()]
        return [
            *self._run_as(), str(BIN / "postgres"), "-D", str(self.data), "-p", str(self.port),
            "-h", self.host, "-k", str(self.workdir), *options,
        ]  # fmt: skip

    def ready(self) -> bool:
        probe = [str(BIN / "pg_isready"), "-q", "-h", self.host, "-p", str(self.port)]
        return subprocess.run(probe, check=False).returncode == 0

    def url(self, database: str) -> str:
        return f"postgresql://{USER}@{self.host}:{self.port}/{database}"

    def admin_url(self, database: str = "postgres") -> str:
        """The unix socket, trusted: for the tests' own set-up and checks."""
        return f"postgresql://{USER}@/{database}?host={self.workdir}&port={self.port}"

    def create_database(self, name: str | None = None) -> str:
        import psycopg

        name = name or f"c{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def start(self, timeout: float = 30.0) -> None:
        super().start(timeout)

    def remove(self) -> None:
        """Stop at once (SIGQUIT: no shutdown checkpoint; the data is thrown away)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(3)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def stop(self) -> None:
        # SIGINT is PostgreSQL's fast shutdown (SIGTERM waits for clients to leave).
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _unprivileged() -> tuple[int, int] | None:
    if os.geteuid() != 0:
        return None
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid


@contextlib.contextmanager
def running_postgres(settings: dict[str, str] | None = None) -> Iterator[Postgres]:
    server = Postgres(settings=settings)
    try:
        server.start()
        yield server
    finally:
        server.remove()
