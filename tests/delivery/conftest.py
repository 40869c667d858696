"""Fixtures of the delivery tests: a broker that survives its own crash, a consumer."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from tests.delivery.brokers import PersistentMosquitto
from tests.delivery.service_center import ServiceCenter
from tests.realservers import Mosquitto, running


async def eventually(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate`` on the loop (files, process state) until true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {timeout} s")
        await asyncio.sleep(0.02)


# Nagle's algorithm off on the broker's sockets (set_tcp_nodelay), as docs/mqtt.md
# recommends: else each small message can wait ~40 ms for the previous one's ACK.
NO_DELAY_CONFIG = "set_tcp_nodelay true\n"
NO_DELAY = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


@pytest.fixture
def quick_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "broker", extra_config=NO_DELAY_CONFIG)
    with running(broker):
        yield broker


@pytest.fixture
def persistent_broker(tmp_path: Path) -> Iterator[PersistentMosquitto]:
    broker = PersistentMosquitto(tmp_path / "broker")
    with running(broker):
        yield broker


@pytest.fixture
async def persistent_center(persistent_broker: PersistentMosquitto) -> AsyncIterator[ServiceCenter]:
    """A persistent-session consumer of site ``site-d``, its session saved by the broker."""
    center = ServiceCenter(persistent_broker.host, persistent_broker.port, "site-d")
    subscribed = time.time_ns()
    await center.start()
    try:
        # The broker writes its state every second: once written after the subscription,
        # the session survives a SIGKILL of the broker.
        await eventually(lambda: persistent_broker.saved_since(subscribed), 5, "session saved")
        yield center
    finally:
        await center.stop()
