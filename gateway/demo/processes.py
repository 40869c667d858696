"""Real third-party servers on loopback: mosquitto and net-snmp's snmpd.

Used by `lvgw demo` and by the test fixtures. Each runs in the foreground on a
free 127.0.0.1 port with a generated config, and ``start()`` returns only once
the server answers (TCP connect for mosquitto, an SNMP response for snmpd):
never a fixed sleep.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

SBIN_PATHS = ("/usr/sbin", "/sbin")


def which(cmd: str) -> str:
    path = shutil.which(cmd) or shutil.which(cmd, path=os.pathsep.join(SBIN_PATHS))
    if path is None:
        raise RuntimeError(f"{cmd} is not installed: `make demo` and `make test` install it")
    return path


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port that is free on 127.0.0.1 for both TCP and UDP."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        other = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
        try:
            with socket.socket(socket.AF_INET, other) as s2:
                s2.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port")


def wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.02
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready within {timeout} s")


def tcp_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


# A v2c GET of sysUpTime.0 with community "public" (request-id 1): the readiness probe.
_SNMP_PROBE = bytes.fromhex(
    "302602010104067075626c6963a019020101020100020100300e300c06082b060102010103000500"
)


def snmp_answers(host: str, port: int, timeout: float = 0.1) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(_SNMP_PROBE, (host, port))
            s.recvfrom(4096)
        except OSError:
            return False
        return True


class Server:
    """A foreground child process with a readiness check."""

    name = "server"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / f"{self.name}.log"

    def command(self) -> list[str]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    def ready(self) -> bool:
        raise NotImplementedError

    def start(self, timeout: float = 10.0) -> None:
        assert self.proc is None or self.proc.poll() is not None, f"{self.name} already running"
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, env=self.env()
            )

        def up() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode}:\n{self.log_path.read_text()}"
                )
            return self.ready()

        wait_until(up, timeout, self.name)

    def kill(self) -> None:
        """Stop abruptly, like a device losing power."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Mosquitto(Server):
    name = "mosquitto"

    def __init__(self, workdir: Path, extra_config: str = "", port: int | None = None) -> None:
        super().__init__(workdir)
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} {self.host}\n"
            "allow_anonymous true\n"
            "persistence false\n"
            "user root\n" + extra_config
        )

    def command(self) -> list[str]:
        return [which("mosquitto"), "-c", str(self.conf)]

    def ready(self) -> bool:
        return tcp_open(self.host, self.port)


class Snmpd(Server):
    """net-snmp's snmpd as a real agent: v2c community `public`, v3 user `lvgw`."""

    name = "snmpd"
    V3_USER = "lvgw"
    V3_AUTH = "authpass123"
    V3_PRIV = "privpass123"

    def __init__(
        self, workdir: Path, port: int | None = None, trap_sink: str = "", host: str = "127.0.0.1"
    ) -> None:
        super().__init__(workdir)
        self.host = host
        self.port = port or free_port(socket.SOCK_DGRAM)
        self.conf = workdir / "snmpd.conf"
        self.persist = workdir / "persist"
        self.persist.mkdir(exist_ok=True)
        sink = f"trap2sink {trap_sink} public\n" if trap_sink else ""
        self.conf.write_text(
            f"agentAddress udp:{self.host}:{self.port}\n"
            "rocommunity public 127.0.0.1\n"
            f'createUser {self.V3_USER} SHA "{self.V3_AUTH}" AES "{self.V3_PRIV}"\n'
            f"rouser {self.V3_USER} priv\n"
            "sysName lvgw-test-switch\n"
            "sysLocation test rack\n" + sink
        )

    def command(self) -> list[str]:
        return [
            which("snmpd"), "-f", "-C", "-c", str(self.conf), "-Lf", str(self.log_path),
            "-p", str(self.workdir / "snmpd.pid"), "-m", "", "-M", "/nonexistent",
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        return {**os.environ, "SNMP_PERSISTENT_DIR": str(self.persist), "MIBS": ""}

    def ready(self) -> bool:
        return snmp_answers(self.host, self.port)


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    server.start()
    try:
        yield server
    finally:
        server.stop()
