"""A connection flood on the status page of a real `lvgw run` (issue 13, finding 2).

The gateway runs with a low limit of open files (``prlimit --nofile``); hundreds of
idle connections to its page must neither use up its descriptors (the next write of
the status snapshot would fail and stop the gateway) nor keep a legitimate client out
for longer than the request-head deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gateway import snapshot
from gateway.webkit.server import Limits
from tests.realservers import Mosquitto, free_port, which
from tests.views.conftest import HttpAnswer, http, write_site

pytestmark = pytest.mark.integration

NOFILE = 256  # the gateway's limit of open files in this test
FLOOD = 400  # idle connections per wave, well past that limit
CAP = Limits().max_connections  # the default a site gets


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def settles_below(pid: int, most: int, timeout: float = 10) -> None:
    """Waits until ``pid`` has at most ``most`` files open (connections the kernel
    queued when the flood's connects returned are accepted and refused just after)."""
    async with asyncio.timeout(timeout):
        while (count := open_files(pid)) > most:
            await asyncio.sleep(0.05)
    assert count <= most


async def until_answered(port: int, timeout: float) -> HttpAnswer:
    """`/api/status` until it answers 200 (503 while starting or while the cap is full)."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                answer = await http(port, "/api/status")
                if answer.status == 200:
                    return answer
            except OSError:
                pass  # not listening yet, or turned away
            await asyncio.sleep(0.1)


async def flood(port: int, count: int) -> list[asyncio.StreamWriter]:
    """``count`` connections that send nothing, all held open on this side."""
    writers = []
    async with asyncio.timeout(30):  # a server that stops accepting fails here
        for _ in range(count):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writers.append(writer)
    return writers


async def release(writers: list[asyncio.StreamWriter]) -> None:
    for writer in writers:
        writer.close()
    await asyncio.gather(*(w.wait_closed() for w in writers), return_exceptions=True)


def start_gateway(tmp_path: Path, port: int, mqtt_port: int) -> subprocess.Popen[bytes]:
    config = write_site(tmp_path / "site", f"  status_listen: 127.0.0.1:{port}",
                        mqtt_port=mqtt_port, interval="1s")  # fmt: skip
    return subprocess.Popen(
        [which("prlimit"), f"--nofile={NOFILE}", sys.executable, "-m", "gateway", "run",
         "-c", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


def stop_gateway(gateway: subprocess.Popen[bytes]) -> str:
    if gateway.poll() is None:
        gateway.kill()
    return gateway.communicate(timeout=10)[0].decode()


def accept_queue(port: int) -> tuple[int, int]:
    """The listening socket's queued connections and its backlog, as `ss` reads them."""
    lines = subprocess.run(
        [which("ss"), "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(lines[1]), int(lines[2])  # State Recv-Q Send-Q ...


async def test_a_connection_flood_leaves_the_gateway_running_and_the_page_usable(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    port = free_port()
    state_dir = tmp_path / "site" / "state"
    gateway = start_gateway(tmp_path, port, mosquitto.port)
    try:
        await until_answered(port, 30)
        baseline = open_files(gateway.pid)
        assert baseline + CAP + 20 < NOFILE, f"{baseline} files open before the flood"
        for wave in range(2):
            first = snapshot.read(state_dir)
            assert first is not None
            held = await flood(port, FLOOD)
            try:
                # Past the cap every connection is answered 503 and closed at once:
                # the gateway's descriptors stay near its baseline plus the cap.
                await settles_below(gateway.pid, baseline + CAP + 10)
                # The idle ones inside the cap are closed at the head deadline; a
                # client with a request gets its answer while the flood still holds
                # its sockets.
                answer = await until_answered(port, Limits().head_timeout + 10)
                assert json.loads(answer.body)["site"]["id"] == "site-view"
                # And the snapshot is still written every 5 s.
                async with asyncio.timeout(15):
                    while (now := snapshot.read(state_dir)) is None or (
                        now.generated_at == first.generated_at
                    ):
                        await asyncio.sleep(0.2)
                assert gateway.poll() is None, f"wave {wave}: the gateway stopped"
            finally:
                await release(held)
        assert (await http(port, "/")).status == 200
        gateway.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(gateway.wait, 15) == 0
    finally:
        output = stop_gateway(gateway)
    assert "Traceback" not in output, output
    assert "Too many open files" not in output, output
    assert "status page: 64 connections open (the limit): refused" in output


async def test_a_flood_queued_while_the_gateway_was_busy_is_accepted_within_its_files(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """A loop that was busy (here: stopped) while a flood filled the kernel's queue
    accepts the whole queue in one go, before it refuses and closes any of it: that
    burst must fit in the descriptors left beside the cap's connections. With
    aiohttp's default backlog (128) this failed with EMFILE under a loaded machine."""
    port = free_port()
    gateway = start_gateway(tmp_path, port, mosquitto.port)
    try:
        await until_answered(port, 30)
        baseline = open_files(gateway.pid)
        # Room for the cap's connections and a few small bursts, not for a burst of 128.
        limit = baseline + CAP + 100
        subprocess.run([which("prlimit"), f"--pid={gateway.pid}", f"--nofile={limit}:{limit}"],
                       check=True)  # fmt: skip
        held = await flood(port, CAP)  # the cap's connections, idle until the head deadline
        gateway.send_signal(signal.SIGSTOP)
        try:
            queued = [
                asyncio.create_task(asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 60))
                for _ in range(200)
            ]  # fmt: skip
            async with asyncio.timeout(20):  # until the kernel's queue is full
                while (queue := accept_queue(port))[0] <= queue[1]:
                    await asyncio.sleep(0.05)
        finally:
            gateway.send_signal(signal.SIGCONT)
        done = await asyncio.gather(*queued, return_exceptions=True)
        await release(held + [writer for result in done if isinstance(result, tuple)
                              for writer in result[1:]])  # fmt: skip
        await settles_below(gateway.pid, baseline + CAP + 10)
        answer = await until_answered(port, Limits().head_timeout + 10)
        assert json.loads(answer.body)["site"]["id"] == "site-view"
        assert gateway.poll() is None, "the gateway stopped"
    finally:
        output = stop_gateway(gateway)
    assert "out of system resource" not in output, output
    assert "Too many open files" not in output, output
