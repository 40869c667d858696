"""Fixtures of the trap receiver tests: receivers that are always closed, net-snmp tools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from drivers.snmp.traps import TrapReceiver, TrapReceiverConfig
from tests.drivers.snmp_traps.helpers import COMMUNITY, V3_USERS, NetSnmp, StartReceiver


@pytest.fixture
async def start_receiver() -> AsyncIterator[StartReceiver]:
    """Start receivers on 127.0.0.1 (a free high port unless told); close them all after."""
    receivers: list[TrapReceiver] = []

    async def start(**settings: Any) -> TrapReceiver:
        defaults: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": 0,
            "communities": (COMMUNITY,),
            "v3_users": V3_USERS,
        }
        receiver = TrapReceiver(TrapReceiverConfig(**(defaults | settings)))
        await receiver.start()
        receivers.append(receiver)
        return receiver

    try:
        yield start
    finally:
        for receiver in receivers:
            await receiver.close()


@pytest.fixture
def netsnmp(tmp_path: Path) -> NetSnmp:
    return NetSnmp(tmp_path / "net-snmp")
