"""Fixtures of the delivery tests: a broker that survives its own crash, a consumer."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from tests.delivery.brokers import PersistentMosquitto
from tests.delivery.service_center import ServiceCenter
from tests.realservers import running


async def eventually(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate`` on the loop (files, process state) until true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {timeout} s")
        await asyncio.sleep(0.02)


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
