"""Fixtures for the metric sinks: a real VictoriaMetrics and an outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gateway.outbox import Outbox
from tests.metrics.victoria import VictoriaMetrics
from tests.realservers import running


@pytest.fixture(scope="session")
def victoria(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetrics]:
    """One server for the tests that write and read back (each test on its own site tag)."""
    with running(VictoriaMetrics(tmp_path_factory.mktemp("victoria"))) as server:
        assert isinstance(server, VictoriaMetrics)
        yield server


@pytest.fixture
def own_victoria(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    """A server of the test's own, to kill and restart; not started yet."""
    server = VictoriaMetrics(tmp_path / "victoria")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def outbox(tmp_path: Path) -> AsyncIterator[Outbox]:
    async with Outbox(tmp_path / "outbox.db") as box:
        yield box
