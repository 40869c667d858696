"""The center under test: a CENTER.yaml on a real broker, run in-process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from center.config import CenterFile, load_center
from center.ledger import LedgerUrl
from center.service import Center
from tests.postgres import Postgres, running_postgres
from tests.realservers import Mosquitto


def center_file(
    tmp_path: Path,
    broker: Mosquitto,
    adapters: str = "[]",
    extra: str = "",
    *,
    ledger: LedgerUrl | None = None,
    client_id: str | None = None,
    name: str = "center.yaml",
) -> Path:
    path = tmp_path / name
    database = f"sqlite:///{tmp_path}/center.db"
    if ledger is not None:
        database = f"{{url: '{ledger.url}', password_file: '{ledger.password_file}'}}"
    client_id = client_id or f"center-{tmp_path.name[-20:].replace('.', '-')}"
    path.write_text(
        f"broker: {{host: {broker.host}, port: {broker.port}, group: ops,"
        f" client_id: {client_id}}}\n"
        f"database: {database}\n"
        f"adapters: {adapters}\n{extra}"
    )
    return path


def load(path: Path) -> CenterFile:
    return load_center(path).center


@contextlib.asynccontextmanager
async def running(center: Center) -> AsyncIterator[Center]:
    stop = asyncio.Event()
    task = asyncio.create_task(center.run(stop))
    try:
        await asyncio.wait_for(center.started.wait(), 10)
        await asyncio.wait_for(center.ingest.connected.wait(), 10)
        yield center
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One PostgreSQL server for the session; each test takes a database of its own."""
    with running_postgres() as server:
        yield server


@pytest.fixture
def pg_ledger(postgres: Postgres) -> LedgerUrl:
    """A fresh, empty database on the session's server, as CENTER.yaml would name it."""
    return LedgerUrl(postgres.url(postgres.create_database()), postgres.password_file)
