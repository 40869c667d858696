"""panoramisk (a third-party asyncio AMI client) logs in to the simulated PBX and
reads what the driver reads: the simulator answers both alike, so neither the
simulator nor the driver can simply mirror the other's mistakes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from panoramisk import Manager

from drivers.ami import AmiConnection, AmiTarget
from tests.drivers.ami.conftest import SECRET, SimPbx

pytestmark = pytest.mark.integration


async def referee_reads(pbx: SimPbx, *actions: str) -> dict[str, Any]:
    manager = Manager(
        host="127.0.0.1", port=pbx.port, username="lvgw", secret=SECRET,
        ping_delay=3600, loop=asyncio.get_running_loop(),
    )  # fmt: skip
    await manager.connect()
    try:
        return {action: await manager.send_action({"Action": action}) for action in actions}
    finally:
        manager.close()


async def test_panoramisk_reads_what_the_driver_reads(pbx: SimPbx) -> None:
    pbx.model.inject("trunk_down", {"trunk": "1"})
    actions = ("CoreStatus", "PJSIPShowRegistrationsOutbound")
    conn = AmiConnection(AmiTarget("127.0.0.1", pbx.port, "lvgw", SECRET))
    await conn.open()
    try:
        status = await conn.action("CoreStatus")
        regs = await conn.action("PJSIPShowRegistrationsOutbound")
    finally:
        await conn.close()
    seen = await referee_reads(pbx, *actions)
    core = seen["CoreStatus"]
    assert core.success
    for key in ("CoreStartupDate", "CoreStartupTime", "CoreReloadDate", "CoreReloadTime"):
        assert core[key] == status.response.get(key), key
    listed = [m for m in seen["PJSIPShowRegistrationsOutbound"]
              if m.get("Event") == "OutboundRegistrationDetail"]  # fmt: skip
    theirs = {m["ObjectName"]: m["Status"] for m in listed}
    ours = {r.get("ObjectName"): r.get("Status") for r in regs.rows("OutboundRegistrationDetail")}
    assert theirs == ours == {"sip-trunk-1": "Rejected", "sip-trunk-2": "Registered"}
