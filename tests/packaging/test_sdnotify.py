"""`lvgw run` speaks systemd's notify protocol (Type=notify, WatchdogSec=): checked with
our own AF_UNIX datagram socket as NOTIFY_SOCKET, the way systemd listens."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from drivers.tasks import stop_task
from gateway import sdnotify
from tests.packaging.site import one_switch_site
from tests.realservers import Mosquitto

pytestmark = pytest.mark.integration

WATCHDOG = 2.0  # seconds: WatchdogSec= as systemd would pass it (WATCHDOG_USEC)


@contextmanager
def notify_socket(path: Path | str) -> Iterator[socket.socket]:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(path))
    try:
        yield listener
    finally:
        listener.close()


def receive(listener: socket.socket, timeout: float) -> dict[str, str]:
    """The next notification as KEY -> VALUE, with when it arrived (``at``)."""
    listener.settimeout(timeout)
    data = listener.recv(4096).decode()
    message = dict(line.split("=", 1) for line in data.splitlines())
    return {**message, "at": str(time.monotonic())}


def receive_until(
    listener: socket.socket, key: str, timeout: float
) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The first notification carrying ``key``, and all that came before it."""
    deadline = time.monotonic() + timeout
    before: list[dict[str, str]] = []
    while True:
        message = receive(listener, max(0.01, deadline - time.monotonic()))
        if key in message:
            return message, before
        before.append(message)


def test_run_tells_systemd_ready_feeds_the_watchdog_and_says_stopping(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    with (
        one_switch_site(tmp_path, mosquitto) as site,
        notify_socket(tmp_path / "notify") as listener,
        (tmp_path / "lvgw.log").open("wb") as log,
    ):
        env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify"),
               "WATCHDOG_USEC": str(int(WATCHDOG * 1_000_000))}  # fmt: skip
        gateway = subprocess.Popen(
            [sys.executable, "-m", "gateway", "run", "-c", str(site)],
            stdout=log, stderr=log, env=env,
        )  # fmt: skip
        try:
            ready, before = receive_until(listener, "READY", timeout=30)
            assert before == []  # nothing, not even a ping, before READY=1
            assert ready["READY"] == "1"
            assert ready["STATUS"].startswith("1 devices, uplink ")
            pings = [receive(listener, WATCHDOG) for _ in range(4)]
            # Every message within WatchdogSec of the one before: systemd would not restart.
            for earlier, later in zip([ready, *pings], pings, strict=False):
                assert float(later["at"]) - float(earlier["at"]) < WATCHDOG
            assert sum("WATCHDOG" in p for p in pings) >= 3
            # STATUS= follows the agent: the uplink connects to the broker (if it had not
            # yet by READY=1), and the status says so.
            statuses = [m["STATUS"] for m in [ready, *pings] if "STATUS" in m]
            assert statuses[-1] == "1 devices, uplink connected, 0 open tickets", statuses
            gateway.send_signal(signal.SIGTERM)
            stopping, _ = receive_until(listener, "STOPPING", timeout=10)
            assert stopping["STATUS"] == "stopping"
            assert gateway.wait(20) == 0
        finally:
            if gateway.poll() is None:
                gateway.kill()
                gateway.wait(5)
    assert "Traceback" not in (tmp_path / "lvgw.log").read_text()


async def test_a_stuck_event_loop_stops_feeding_the_watchdog(tmp_path: Path) -> None:
    """The pings come from the event loop itself: while it is blocked none is sent."""
    with notify_socket(tmp_path / "notify") as listener:
        environ = {"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "200000"}
        notifier = sdnotify.Notifier.from_environ(environ)
        assert notifier is not None and notifier.watchdog_seconds == 0.2
        started, stopping = asyncio.Event(), asyncio.Event()
        started.set()
        task = asyncio.create_task(notifier.serve(started, stopping, lambda: "fine"))
        try:
            ready = await asyncio.to_thread(receive, listener, 5)
            assert ready["READY"] == "1"
            await asyncio.to_thread(receive, listener, 1)  # the loop runs: pings arrive
            time.sleep(1.0)  # noqa: ASYNC251 - the stuck loop under test: five intervals
            listener.setblocking(False)
            stale = []
            while True:
                try:
                    stale.append(listener.recv(4096))
                except BlockingIOError:
                    break
            assert len(stale) <= 1  # at most the ping that was already on its way
        finally:
            await stop_task(task)
            assert task.cancelled(), task.exception()
            notifier.close()


def test_the_environment_is_taken_and_a_watchdog_for_another_pid_ignored() -> None:
    environ = {"NOTIFY_SOCKET": "@lvgw-test", "WATCHDOG_USEC": "30000000",
               "WATCHDOG_PID": str(os.getpid() + 1), "PATH": "/bin"}  # fmt: skip
    notifier = sdnotify.Notifier.from_environ(environ)
    assert notifier is not None
    assert notifier.address == "\0lvgw-test"  # @ names the abstract namespace
    assert notifier.watchdog_seconds is None
    assert environ == {"PATH": "/bin"}  # children of the gateway do not inherit them
    notifier.close()
    assert sdnotify.Notifier.from_environ({}) is None


def test_an_abstract_socket_address(tmp_path: Path) -> None:
    name = f"lvgw-test-{os.getpid()}-{tmp_path.name}"
    with notify_socket("\0" + name) as listener:
        notifier = sdnotify.Notifier.from_environ({"NOTIFY_SOCKET": "@" + name})
        assert notifier is not None
        notifier.notify(STATUS="2 devices, uplink connected, 0 open tickets")
        assert receive(listener, 5)["STATUS"] == "2 devices, uplink connected, 0 open tickets"
        notifier.close()


async def test_a_failing_status_line_does_not_stop_the_pings(tmp_path: Path) -> None:
    def broken() -> str:
        raise RuntimeError("no status")

    with notify_socket(tmp_path / "notify") as listener:
        environ = {"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "100000"}
        notifier = sdnotify.Notifier.from_environ(environ)
        assert notifier is not None
        started, stopping = asyncio.Event(), asyncio.Event()
        started.set()
        task = asyncio.create_task(notifier.serve(started, stopping, broken))
        try:
            ready = await asyncio.to_thread(receive, listener, 5)
            assert (ready["READY"], ready["STATUS"]) == ("1", "running")
            for _ in range(3):
                assert "WATCHDOG" in await asyncio.to_thread(receive, listener, 5)
        finally:
            await stop_task(task)
            assert task.cancelled(), task.exception()
            notifier.close()
