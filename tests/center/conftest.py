"""The center under test: a CENTER.yaml on a real broker, run in-process."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from aiohttp import web

from center.config import CenterFile, load_center
from center.ledger import LedgerUrl
from center.service import Center
from tests.httpreceiver import serving
from tests.postgres import Postgres, running_postgres
from tests.realservers import Alertmanager, Mosquitto


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


async def until(predicate: Callable[[], object], what: str, timeout: float = 15) -> None:
    """Wait (the loop running) until ``predicate()`` is true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(0.02)


async def publish(broker: Mosquitto, payloads: list[bytes], site_id: str = "site-001") -> None:
    """Publish ticket events as a site does (QoS 1)."""
    async with aiomqtt.Client(broker.host, broker.port) as site:
        for payload in payloads:
            await site.publish(f"lvgw/v1/{site_id}/tickets", payload, qos=1)


def write_secret(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


@dataclass
class Request:
    path: str
    query: str  # raw, as sent
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A local HTTP receiver: keeps every request and answers with ``answer`` (which
    may check the request first)."""

    answer: Callable[[Request], web.Response | Awaitable[web.Response]]
    url: str = ""
    requests: list[Request] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        seen = Request(
            request.path, request.rel_url.raw_query_string, dict(request.headers),
            await request.read(),
        )  # fmt: skip
        self.requests.append(seen)
        answer = self.answer(seen)
        return await answer if inspect.isawaitable(answer) else answer


@contextlib.asynccontextmanager
async def receiving(
    answer: Callable[[Request], web.Response | Awaitable[web.Response]],
) -> AsyncIterator[Receiver]:
    receiver = Receiver(answer)
    async with serving(receiver.handle) as receiver.url:
        yield receiver


async def wait_counts(center: Center, expected: dict[str, dict[str, int]]) -> None:
    """Wait until the adapters' deliveries per state are ``expected``."""
    deadline = time.monotonic() + 15
    counts = await center.store.delivery_counts()
    while counts != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"deliveries {counts}, not {expected}, within 15 s")
        await asyncio.sleep(0.02)
        counts = await center.store.delivery_counts()


@dataclass
class AlertmanagerUnderTest:
    server: Alertmanager
    notified: Receiver  # Alertmanager's webhook receiver: what its receivers are sent

    def notifications(self) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.notified.requests]


@pytest.fixture
async def alertmanager(tmp_path: Path) -> AsyncIterator[AlertmanagerUnderTest]:
    """A real Alertmanager (Debian's prometheus-alertmanager) whose one receiver is a
    local webhook, so a test sees what Alertmanager's receivers are sent."""
    async with receiving(lambda _request: web.Response(status=200)) as notified:
        server = Alertmanager(tmp_path / "alertmanager", notify_url=f"{notified.url}/notify")
        await asyncio.to_thread(server.start)
        try:
            yield AlertmanagerUnderTest(server, notified)
        finally:
            server.stop()
