"""A fleet of simulated SNMP devices: net-snmp's snmpd listening on many loopback ports.

One snmpd serves up to PORTS_PER_AGENT ports (net-snmp 5.9 opens at most 128 of
the addresses it is given), so the agent side stays cheap C code and the client is
what gets measured.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from bench.children import stop_all
from tests.realservers import snmp_answers, wait_until

PORTS_PER_AGENT = 125

GET_OIDS = [
    "1.3.6.1.2.1.1.1.0",  # sysDescr
    "1.3.6.1.2.1.1.2.0",  # sysObjectID
    "1.3.6.1.2.1.1.3.0",  # sysUpTime
    "1.3.6.1.2.1.1.4.0",  # sysContact
    "1.3.6.1.2.1.1.5.0",  # sysName
    "1.3.6.1.2.1.1.6.0",  # sysLocation
    "1.3.6.1.2.1.1.7.0",  # sysServices
    "1.3.6.1.2.1.2.1.0",  # ifNumber
    "1.3.6.1.2.1.11.1.0",  # snmpInPkts
    "1.3.6.1.2.1.11.2.0",  # snmpOutPkts
]
IF_COLUMNS = [f"1.3.6.1.2.1.2.2.1.{c}" for c in (2, 3, 8, 10, 14, 16)]
MAX_REPETITIONS = 10


def _free_udp_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            ports.add(int(s.getsockname()[1]))
    return sorted(ports)


class Fleet:
    """``devices`` agents on 127.0.0.1, one UDP port each."""

    def __init__(self, devices: int) -> None:
        self.ports = _free_udp_ports(devices)
        self.workdir = Path(tempfile.mkdtemp(prefix="lvgw-fleet-"))
        self.agents: list[subprocess.Popen[bytes]] = []

    def start(self) -> Fleet:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        snmpd = shutil.which("snmpd") or "/usr/sbin/snmpd"
        for n, first in enumerate(range(0, len(self.ports), PORTS_PER_AGENT)):
            chunk = self.ports[first : first + PORTS_PER_AGENT]
            work = self.workdir / f"agent{n}"
            (work / "persist").mkdir(parents=True)
            conf = work / "snmpd.conf"
            # net-snmp cuts config lines at 4 KiB: several agentAddress lines add up.
            addresses = "".join(
                "agentAddress " + ",".join(f"udp:127.0.0.1:{p}" for p in chunk[i : i + 50]) + "\n"
                for i in range(0, len(chunk), 50)
            )
            conf.write_text(
                f"{addresses}rocommunity public 127.0.0.1\n"
                "sysName bench-device\nsysLocation bench rack\nsysContact bench\n"
            )
            env = {**os.environ, "SNMP_PERSISTENT_DIR": str(work / "persist"), "MIBS": ""}
            cmd = [snmpd, "-f", "-C", "-c", str(conf), "-Lf", str(work / "log"),
                   "-p", str(work / "pid"), "-m", "", "-M", "/nonexistent",
                   "-I", "-smux"]  # fmt: skip
            self.agents.append(subprocess.Popen(cmd, env=env))
            wait_until(lambda c=chunk: snmp_answers("127.0.0.1", c[-1]), 20, f"snmpd #{n}")
        for port in self.ports:
            wait_until(lambda p=port: snmp_answers("127.0.0.1", p), 5, f"port {port}")

    def stop(self) -> None:
        stop_all(self.agents)
        shutil.rmtree(self.workdir, ignore_errors=True)


__all__ = ["GET_OIDS", "IF_COLUMNS", "MAX_REPETITIONS", "Fleet"]
