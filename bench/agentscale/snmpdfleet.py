"""A cheap fleet for bench/agent_scale.py: switches served by net-snmp's snmpd.

The Python simulators need about a quarter of a core per 500 devices of the large
fleet's mix; at 2,000 devices and more they starve beside the agent on two cores and
the agent's figures measure their lateness. Here every device is a small managed
switch answered by net-snmp's C agent: one ``snmpd`` per ``DEVICES_PER_AGENT``
devices, each device on its own loopback address (127.B.x.y, port ``SNMP_PORT``, as
on a LAN), every snmpd serving the same switch to all its addresses.

The switch is what ``config/profiles/switch-generic.yaml`` reads, nothing else
(snmpd is started with only the modules it needs, ``-I``): SNMPv2-MIB's system group
and HOST-RESOURCES-MIB hrSystemDate from snmpd itself (sysUpTime and the date move
as on any device), and IF-MIB ifTable/ifXTable (RFC 2863), ENTITY-SENSOR-MIB
entPhySensorTable (RFC 3433) with ENTITY-MIB entPhysicalName (RFC 6933) and
POWER-ETHERNET-MIB pethPsePortTable (RFC 3621) as snmpd ``override`` objects: 7
access ports and an uplink, two sensors (a temperature, a fan), PoE on 4 ports. One
poll of it returns 147 values (11 columns and 4 rates per port, 6 per sensor, 2 per
PoE port, 5 scalars, reachability and round trip), the large mix's average
(bench/agent_scale.py counts them with the gateway's own reader). Traffic counters
move: every ``COUNTER_STEP`` seconds each snmpd gets one SET of its ports' octet
counters (``override -rw``; net-snmp's override knows no Counter64, so they are
Counter32 on the wire), so rates are computed from values that change, as the
simulators' ramps do. Error counters stay at zero (healthy ports), so no rule fires.

What differs from the mix: every device speaks SNMP (the mix also has Modbus alarm
panels, ISAPI NVRs and AMI PBXs) and is a switch, so its rules are the switch's.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from bench.children import stop_all
from drivers.snmp.ber import encode_integer, encode_message_prefix, encode_oid, encode_request
from gateway.demo.processes import snmp_answers

DEVICES_PER_AGENT = 100  # net-snmp 5.9 binds ~116 addresses of those it is given
SNMP_PORT = 1161
COUNTER_STEP = 10.0  # seconds between two SETs of the octet counters
ACCESS_PORTS = 7
UPLINK = ACCESS_PORTS + 1
POE_PORTS = 4  # of the access ports
# the snmpd modules the switch needs: system group, hrSystemDate, override, access control
MODULES = "system_mib,hr_system,override,vacm_conf,vacm_vars,snmpEngine,usmConf,usmUser"

IF = "1.3.6.1.2.1.2.2.1"
IFX = "1.3.6.1.2.1.31.1.1.1"
SENSOR = "1.3.6.1.2.1.99.1.1.1"
ENT_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"
PETH = "1.3.6.1.2.1.105.1.1.1"
IN_OCTETS, OUT_OCTETS = f"{IFX}.6", f"{IFX}.10"


def octets_per_second(port: int) -> tuple[int, int]:
    """Each port's traffic in and out (bytes/s): apart per port, steady."""
    return 40_000 * port, 25_000 * port


def switch_overrides() -> list[str]:
    """The snmpd.conf lines of the switch's tables (ifTable/ifXTable, sensors, PoE)."""
    lines: list[str] = []

    def put(oid: str, kind: str, value: object, rw: bool = False) -> None:
        shown = f'"{value}"' if kind == "octet_str" else str(value)
        lines.append(f"override {'-rw ' if rw else ''}{oid} {kind} {shown}")

    ports = range(1, UPLINK + 1)
    for column, kind, value in (
        (f"{IF}.2", "octet_str", "GigabitEthernet0/{n}"),  # ifDescr
        (f"{IF}.3", "integer", 6),  # ifType ethernetCsmacd
        (f"{IF}.7", "integer", 1),  # ifAdminStatus up
        (f"{IF}.8", "integer", 1),  # ifOperStatus up
        (f"{IF}.14", "counter", 0),  # ifInErrors
        (f"{IF}.20", "counter", 0),  # ifOutErrors
        (f"{IFX}.1", "octet_str", "Gi0/{n}"),  # ifName
        (IN_OCTETS, "counter", 0),  # ifHCInOctets (set as time goes)
        (OUT_OCTETS, "counter", 0),  # ifHCOutOctets
        (f"{IFX}.15", "uinteger", 1000),  # ifHighSpeed, Mbit/s
    ):
        for n in ports:
            put(f"{column}.{n}", kind, value.format(n=n) if isinstance(value, str) else value,
                rw=column in (IN_OCTETS, OUT_OCTETS))  # fmt: skip
    for n in ports:  # ifAlias: the uplink's description starts with "uplink"
        put(f"{IFX}.18.{n}", "octet_str", "uplink to core" if n == UPLINK else f"desk {n}")
    sensors = {  # entPhysicalIndex: (type, scale, precision, value, status, name)
        1001: (8, 9, 0, 41, 1, "Board temperature"),  # celsius, units, 41 C, ok
        1002: (10, 9, 0, 4200, 1, "Fan 1"),  # rpm
    }
    for index, row in sensors.items():
        for column, value in enumerate(row[:5], start=1):
            put(f"{SENSOR}.{column}.{index}", "integer", value)
        put(f"{ENT_NAME}.{index}", "octet_str", row[5])
    for n in range(1, POE_PORTS + 1):  # pethPsePortTable, index group 1 . port
        put(f"{PETH}.3.1.{n}", "integer", 1)  # pethPsePortAdminEnable enabled
        put(f"{PETH}.6.1.{n}", "integer", 3)  # pethPsePortDetectionStatus deliveringPower
    return lines


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    length = bytes((n,)) if n < 0x80 else bytes((0x82,)) + n.to_bytes(2, "big")
    return bytes((tag,)) + length + content


def counters_set(elapsed: float, request_id: int) -> bytes:
    """A v2c SetRequest (community "private") of every port's octet counters, at
    ``elapsed`` seconds of traffic (Counter32, wrapping at 2**32)."""
    varbinds = b""
    for n in range(1, UPLINK + 1):
        for column, rate in zip((IN_OCTETS, OUT_OCTETS), octets_per_second(n), strict=True):
            value = int(elapsed * rate) % 2**32
            counter = encode_integer(value)[2:]  # the INTEGER's content, unsigned
            varbinds += _tlv(0x30, _tlv(0x06, encode_oid(f"{column}.{n}")) + _tlv(0x41, counter))
    prefix = encode_message_prefix(1, b"private")
    return encode_request(prefix, 0xA3, request_id, _tlv(0x30, varbinds))


class SnmpdFleet:
    """``devices`` switches on ``ceil(devices / DEVICES_PER_AGENT)`` snmpd processes."""

    def __init__(self, workdir: Path, devices: int) -> None:
        self.workdir = workdir
        self.devices = devices
        self.agents: list[subprocess.Popen[bytes]] = []
        self.addresses: list[str] = []
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._started = 0.0

    @property
    def pids(self) -> list[int]:
        return [agent.pid for agent in self.agents]

    def start(self) -> SnmpdFleet:
        try:
            self.addresses = self._free_range()
            self._spawn()
            self._wait_ready(deadline=time.monotonic() + 120)
            self._started = time.monotonic()
            self._ticker = threading.Thread(target=self._advance, daemon=True)
            self._ticker.start()
        except BaseException:
            self.stop()
            raise
        return self

    def _free_range(self) -> list[str]:
        """Addresses 127.B.x.y (y 1..250) whose SNMP_PORT is free, B picked at random
        apart from the simulators' ranges (127.77 and 127.100-249)."""
        for _attempt in range(20):
            base = random.randrange(30, 77)
            addresses = [f"127.{base}.{i // 250}.{i % 250 + 1}" for i in range(self.devices)]
            if all(self._free(address) for address in addresses):
                return addresses
        raise RuntimeError("no free loopback range for the snmpd fleet")

    @staticmethod
    def _free(address: str) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind((address, SNMP_PORT))
            except OSError:
                return False
        return True

    def _spawn(self) -> None:
        snmpd = shutil.which("snmpd") or "/usr/sbin/snmpd"
        tables = "".join(line + "\n" for line in switch_overrides())
        for n, first in enumerate(range(0, self.devices, DEVICES_PER_AGENT)):
            chunk = self.addresses[first : first + DEVICES_PER_AGENT]
            work = self.workdir / f"snmpd{n}"
            (work / "persist").mkdir(parents=True)
            # net-snmp cuts config lines at 4 KiB: several agentAddress lines add up.
            listen = "".join(
                "agentAddress " + ",".join(f"udp:{a}:{SNMP_PORT}" for a in chunk[i : i + 50]) + "\n"
                for i in range(0, len(chunk), 50)
            )
            (work / "snmpd.conf").write_text(
                f"{listen}rocommunity public 127.0.0.0/8\nrwcommunity private 127.0.0.0/8\n"
                "dontLogTCPWrappersConnects yes\n"
                "sysDescr lvgw bench switch (net-snmp snmpd, 8 ports)\n"
                f"sysName bench-switch-{n}\nsysLocation bench rack\nsysContact bench\n{tables}"
            )
            env = {"PATH": "/usr/sbin:/usr/bin:/bin", "SNMP_PERSISTENT_DIR": str(work / "persist"),
                   "MIBS": ""}  # fmt: skip
            cmd = [snmpd, "-f", "-C", "-c", str(work / "snmpd.conf"), "-Lf", str(work / "log"),
                   "-p", str(work / "pid"), "-m", "", "-M", "/nonexistent",
                   "-I", MODULES]  # fmt: skip
            self.agents.append(subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL))

    def _wait_ready(self, deadline: float) -> None:
        """Every address answers a GET (each snmpd's log is in the error if not)."""
        waiting = list(self.addresses)
        while waiting:
            for n, agent in enumerate(self.agents):
                if agent.poll() is not None:
                    log = (self.workdir / f"snmpd{n}" / "log").read_text(errors="replace")
                    raise RuntimeError(f"snmpd #{n} exited {agent.returncode}: {log[-500:]}")
            waiting = [a for a in waiting if not snmp_answers(a, SNMP_PORT)]
            if waiting and time.monotonic() > deadline:
                raise TimeoutError(f"{len(waiting)} addresses not answering, e.g. {waiting[0]}")
            if waiting:
                time.sleep(0.2)

    def _advance(self) -> None:
        """Every COUNTER_STEP seconds, one SET of the octet counters per snmpd."""
        request_id = 1
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(2.0)
            while not self._stop.wait(COUNTER_STEP):
                elapsed = time.monotonic() - self._started
                for first in range(0, self.devices, DEVICES_PER_AGENT):
                    request_id += 1
                    s.sendto(counters_set(elapsed, request_id), (self.addresses[first], SNMP_PORT))
                    with contextlib.suppress(OSError):  # late: the next step sets them again
                        s.recvfrom(65536)

    def site_devices(self, interval: str = "30s") -> list[dict[str, Any]]:
        """The site file's devices: a core switch, one in twenty an access switch under
        it, the rest under those in turn (parents as in the large mix)."""
        access = max(1, self.devices // 20)
        out: list[dict[str, Any]] = []
        for i, address in enumerate(self.addresses):
            agent = i // DEVICES_PER_AGENT
            entry: dict[str, Any] = {
                "id": "n0-core" if i == 0 else f"n{agent}-sw-{i}",
                "kind": "switch",
                "profile": "switch-generic",
                "address": address,
                "port": SNMP_PORT,
                "snmp": {"version": "2c", "community": "public"},
                "interval": interval,
            }
            if i == 0:
                entry["role"] = "core"
            elif i <= access:
                entry["parent"] = "n0-core"
            else:
                parent = 1 + (i % access)
                entry["parent"] = f"n{parent // DEVICES_PER_AGENT}-sw-{parent}"
            out.append(entry)
        return out

    def stop(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(5)
        stop_all(self.agents)
