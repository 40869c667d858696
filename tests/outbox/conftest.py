"""Fixtures for the outbox tests: a fresh outbox file per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.outbox import Outbox


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "outbox.db"


@pytest.fixture
async def outbox(db_path: Path) -> AsyncIterator[Outbox]:
    async with Outbox(db_path) as opened:
        yield opened
