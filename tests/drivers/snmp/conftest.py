"""Fixtures of the SNMP driver tests: clients that are always closed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from drivers.snmp.lean import LeanSnmpClient


@pytest.fixture
async def lean() -> AsyncIterator[LeanSnmpClient]:
    client = LeanSnmpClient()
    try:
        yield client
    finally:
        await client.close()
