"""How much one `lvgw-sim` process costs to serve a 500-device fleet.

Starts ``lvgw-sim run --fleet simulators/fleets/large.yaml`` in a subprocess and polls
every device the way a gateway does (SNMP v2c: a GET of the scalars and GETBULK walks
of the table columns a profile reads; Modbus TCP: one read of the panel's registers),
with a small asyncio poller built on pysnmp's message codec. It prints:

- start-up time (spawn to the first output line) and RSS;
- per poll round of all devices: requests, values, wall time, and the simulator's
  CPU time (utime + stime from /proc), unpaced (rounds back to back) and paced (one
  round spread over the 30 s polling interval, as a gateway polls);
- the share of one core the simulator needs at one round every 30 s.

Usage: .venv/bin/python bench/sim_scale.py [--rounds N] [--quick] [--fleet FILE]
(--quick skips the paced round.)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import re
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import rfc1905
from pysnmp.proto.api import v2c

ROOT = Path(__file__).resolve().parent.parent
INTERVAL = 30.0
IN_FLIGHT = 32  # devices polled at once
TIMEOUT = 5.0  # generous: a busy poller reads its socket late, not the simulator
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)  # Linux; needs root, else capped

IF = "1.3.6.1.2.1.2.2.1"
IFX = "1.3.6.1.2.1.31.1.1.1"
SENSOR = "1.3.6.1.2.1.99.1.1.1"
DISK = "1.3.6.1.4.1.50001.1.241.1"
CAM = "1.3.6.1.4.1.50001.99.2.1"
TRUNK = "1.3.6.1.4.1.22736.99.2.1"
UPS = "1.3.6.1.2.1.33.1"

# What a poll reads, per kind: scalars by GET, table columns by GETBULK walks.
POLLS: dict[str, tuple[list[str], list[str]]] = {
    "switch": (
        ["1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.5.0"],
        [f"{IF}.7", f"{IF}.8", f"{IF}.14", f"{IF}.20", f"{IFX}.6", f"{IFX}.10",
         f"{SENSOR}.4", f"{SENSOR}.5", "1.3.6.1.2.1.105.1.1.1.6"],
    ),
    "nvr": (
        ["1.3.6.1.2.1.1.3.0", "1.3.6.1.4.1.50001.1.230.0", "1.3.6.1.4.1.50001.1.240.0",
         "1.3.6.1.4.1.50001.99.3.0"],
        [f"{DISK}.3", f"{DISK}.4", f"{DISK}.5", f"{CAM}.3", f"{CAM}.4"],
    ),
    "pbx": (
        ["1.3.6.1.2.1.1.3.0", "1.3.6.1.4.1.22736.1.2.5.0", "1.3.6.1.4.1.22736.1.2.6.0",
         "1.3.6.1.4.1.22736.1.5.1.0"],
        [f"{TRUNK}.3", f"{TRUNK}.4"],
    ),
    "ups": (
        ["1.3.6.1.2.1.1.3.0", *[f"{UPS}.2.{n}.0" for n in (1, 2, 3, 4, 5)],
         f"{UPS}.4.1.0", f"{UPS}.6.1.0"],
        [f"{UPS}.3.3.1.3", f"{UPS}.4.4.1.5"],
    ),
}  # fmt: skip


def oid(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


@dataclass
class Tally:
    requests: int = 0
    values: int = 0
    timeouts: int = 0
    poller_cpu: float = 0.0
    failures: list[str] = field(default_factory=list)


class SnmpPoller(asyncio.DatagramProtocol):
    """One UDP socket, requests matched to responses by request-id."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.ids = itertools.count(1)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        message, _ = decoder.decode(data, asn1Spec=v2c.Message())
        pdu = v2c.apiMessage.get_pdu(message)
        future = self.pending.pop(int(v2c.apiPDU.get_request_id(pdu)), None)
        if future is not None and not future.done():
            future.set_result(pdu)

    async def request(self, target: tuple[str, int], pdu: Any, tally: Tally) -> list[Any]:
        assert self.transport is not None
        for _attempt in range(2):
            request_id = next(self.ids) % 2**31
            v2c.apiPDU.set_request_id(pdu, request_id)
            message = v2c.Message()
            v2c.apiMessage.set_defaults(message)
            v2c.apiMessage.set_community(message, "public")
            v2c.apiMessage.set_pdu(message, pdu)
            future = asyncio.get_running_loop().create_future()
            self.pending[request_id] = future
            tally.requests += 1
            self.transport.sendto(encoder.encode(message), target)
            try:
                response = await asyncio.wait_for(future, TIMEOUT)
            except TimeoutError:
                self.pending.pop(request_id, None)
                tally.timeouts += 1
                continue
            if int(v2c.apiPDU.get_error_status(response)):
                raise RuntimeError(f"{target}: SNMP error {v2c.apiPDU.get_error_status(response)}")
            return list(v2c.apiPDU.get_varbinds(response))
        raise TimeoutError(f"{target}: no answer")

    async def poll(self, target: tuple[str, int], kind: str, tally: Tally) -> None:
        scalars, columns = POLLS[kind]
        get = v2c.GetRequestPDU()
        v2c.apiPDU.set_defaults(get)
        v2c.apiPDU.set_varbinds(get, [(name, v2c.null) for name in scalars])
        answered = await self.request(target, get, tally)
        tally.values += len(answered)
        current = {column: oid(column) for column in columns}
        while current:
            active = list(current)
            bulk = v2c.GetBulkRequestPDU()
            v2c.apiBulkPDU.set_defaults(bulk)
            v2c.apiBulkPDU.set_non_repeaters(bulk, 0)
            v2c.apiBulkPDU.set_max_repetitions(bulk, max(1, 60 // len(active)))
            v2c.apiBulkPDU.set_varbinds(bulk, [(current[c], v2c.null) for c in active])
            varbinds = await self.request(target, bulk, tally)
            for position, (name, value) in enumerate(varbinds):
                column = active[position % len(active)]
                if column not in current:
                    continue
                prefix = oid(column)
                found = tuple(name)
                if found[: len(prefix)] != prefix or isinstance(value, rfc1905.EndOfMibView):
                    del current[column]
                else:
                    current[column] = found
                    tally.values += 1


async def poll_panel(host: str, port: int, connections: dict[str, Any], tally: Tally) -> None:
    """One Modbus TCP read of the system words and 16 zone words (FC 3, 32 registers)."""
    key = f"{host}:{port}"
    if key not in connections:
        connections[key] = await asyncio.open_connection(host, port)
    reader, writer = connections[key]
    tally.requests += 1
    writer.write(struct.pack(">HHHBBHH", tally.requests & 0xFFFF, 0, 6, 1, 3, 0, 32))
    header = await asyncio.wait_for(reader.readexactly(9), TIMEOUT)
    if header[7] != 3:
        raise RuntimeError(f"{key}: Modbus exception {header[8]}")
    await reader.readexactly(header[8])
    tally.values += 32


@dataclass
class Device:
    id: str
    kind: str
    host: str
    port: int


def fleet_devices(path: Path) -> list[Device]:
    """Expand the fleet file's ``repeat`` entries (addresses step by one)."""
    data = yaml.safe_load(path.read_text())
    default_port = data.get("defaults", {}).get("port")
    out = []
    for entry in data["devices"]:
        count = entry.get("repeat", 1)
        base = [int(part) for part in entry["address"].split(".")]
        start = base[0] << 24 | base[1] << 16 | base[2] << 8 | base[3]
        for n in range(count):
            address = start + n
            host = ".".join(str(address >> shift & 255) for shift in (24, 16, 8, 0))
            name = f"{entry['id']}-{n + 1:03d}" if "repeat" in entry else entry["id"]
            out.append(Device(name, entry["kind"], host, entry.get("port", default_port)))
    return out


def _big_receive_buffer(sock: socket.socket) -> None:
    """One socket takes every answer: a burst overflows the default receive buffer."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)  # beyond rmem_max: root
    except PermissionError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else 0.0


async def poll_round(devices: list[Device], pace: float, pid: int) -> tuple[Tally, float, float]:
    loop = asyncio.get_running_loop()
    transport, poller = await loop.create_datagram_endpoint(SnmpPoller, local_addr=("127.0.0.1", 0))
    _big_receive_buffer(transport.get_extra_info("socket"))
    connections: dict[str, Any] = {}
    tally = Tally()
    gate = asyncio.Semaphore(IN_FLIGHT)
    start, cpu_start, own_start = time.monotonic(), cpu_seconds(pid), time.process_time()

    async def one(index: int, device: Device) -> None:
        if pace:
            await asyncio.sleep(start + pace * index / len(devices) - time.monotonic())
        async with gate:
            try:
                if device.kind == "alarm_panel":
                    await poll_panel(device.host, device.port, connections, tally)
                else:
                    await poller.poll((device.host, device.port), device.kind, tally)
            except (OSError, RuntimeError, TimeoutError) as exc:
                tally.failures.append(f"{device.id}: {exc}")

    try:
        await asyncio.gather(*(one(i, d) for i, d in enumerate(devices)))
    finally:
        transport.close()
        for _reader, writer in connections.values():
            writer.close()
    tally.poller_cpu = time.process_time() - own_start
    return tally, time.monotonic() - start, cpu_seconds(pid) - cpu_start


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return platform.processor() or "unknown"
    match = re.search(r"^Model name:\s+(.+)$", out, re.MULTILINE)
    cores = re.search(r"^CPU\(s\):\s+(\d+)$", out, re.MULTILINE)
    return f"{match.group(1) if match else '?'}, {cores.group(1) if cores else '?'} CPUs"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fleet", type=Path, default=ROOT / "simulators/fleets/large.yaml")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="skip the paced round")
    args = parser.parse_args()
    devices = fleet_devices(args.fleet)
    print(f"machine: {cpu_model()}; Python {platform.python_version()}")
    print(f"fleet: {args.fleet.relative_to(ROOT)} ({len(devices)} devices)")
    started = time.monotonic()
    sim = subprocess.Popen(
        [sys.executable, "-m", "simulators", "run", "--fleet", str(args.fleet),
         "--control", "127.0.0.1:0", "--log-level", "WARNING"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert sim.stdout is not None
        first = sim.stdout.readline()
        if not first.startswith("lvgw-sim: control"):
            print(f"lvgw-sim did not start: {first!r}", file=sys.stderr)
            return 1
        startup = time.monotonic() - started
        print(f"start-up: {startup:.2f} s to serve, RSS {rss_mib(sim.pid):.0f} MiB, "
              f"CPU {cpu_seconds(sim.pid):.2f} s")  # fmt: skip
        idle_start = cpu_seconds(sim.pid)
        await asyncio.sleep(5)
        print(f"idle: {(cpu_seconds(sim.pid) - idle_start) / 5 * 100:.1f} % of one core")
        await poll_round(devices, 0.0, sim.pid)  # warm-up: opens connections, fills caches
        rounds = [("unpaced", 0.0)] * args.rounds + ([] if args.quick else [("paced", INTERVAL)])
        worst = 0.0
        for label, pace in rounds:
            tally, wall, cpu = await poll_round(devices, pace, sim.pid)
            worst = max(worst, cpu)
            print(
                f"round ({label}): {tally.requests} requests, {tally.values} values, "
                f"wall {wall:.1f} s, simulator CPU {cpu:.2f} s "
                f"({cpu / tally.values * 1000:.3f} ms/value), poller CPU {tally.poller_cpu:.1f} s, "
                f"timeouts {tally.timeouts}, failures {len(tally.failures)}"
            )
            for failure in tally.failures[:5]:
                print(f"  failure: {failure}")
        print(f"RSS after polling: {rss_mib(sim.pid):.0f} MiB")
        print(f"one round every {INTERVAL:.0f} s needs {worst / INTERVAL * 100:.0f} % of one core "
              "(worst round)")  # fmt: skip
    finally:
        sim.terminate()
        sim.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
