"""The center under test: a CENTER.yaml on a real broker, run in-process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from center.config import CenterFile, load_center
from center.service import Center
from tests.realservers import Mosquitto


def center_file(tmp_path: Path, broker: Mosquitto, adapters: str = "[]", extra: str = "") -> Path:
    path = tmp_path / "center.yaml"
    path.write_text(
        f"broker: {{host: {broker.host}, port: {broker.port}, group: ops,"
        f" client_id: center-{tmp_path.name[-20:].replace('.', '-')}}}\n"
        f"database: sqlite:///{tmp_path}/center.db\n"
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
