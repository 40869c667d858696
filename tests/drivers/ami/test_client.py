"""The AMI driver against the simulated PBX's manager interface: login, the read
actions and their lists, pushed events, the session's reconnection policy."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from drivers.ami import (
    AmiActionError,
    AmiAuthError,
    AmiClosed,
    AmiConnectError,
    AmiConnection,
    AmiError,
    AmiSession,
    AmiTarget,
)
from tests.drivers.ami.conftest import SECRET, SimPbx, start_pbx

pytestmark = pytest.mark.integration


def target(pbx: SimPbx, **changes: object) -> AmiTarget:
    fields: dict[str, object] = {"host": "127.0.0.1", "port": pbx.port, "username": "lvgw",
                                 "secret": SECRET, "timeout": 3.0}  # fmt: skip
    return AmiTarget(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize("auth", ["md5", "plain"])
async def test_login_and_core_status(pbx: SimPbx, auth: str) -> None:
    conn = AmiConnection(target(pbx, auth=auth))
    await conn.open()
    try:
        assert conn.version == "11.0.0"
        answer = await conn.action("CoreStatus")
        assert answer.response.get("response") == "Success"  # header names: any case
        assert int(answer.response.get("CoreCurrentCalls") or -1) == 2 * pbx.model.active_calls()
        assert answer.events == ()
    finally:
        await conn.close()


async def test_list_actions_collect_their_events(pbx: SimPbx) -> None:
    pbx.model.inject("trunk_down", {"trunk": "2"})
    conn = AmiConnection(target(pbx))
    await conn.open()
    try:
        regs = await conn.action("PJSIPShowRegistrationsOutbound")
        rows = regs.rows("OutboundRegistrationDetail")
        assert [(r.get("ObjectName"), r.get("Status")) for r in rows] == [
            ("sip-trunk-1", "Registered"), ("sip-trunk-2", "Rejected")]  # fmt: skip
        assert len(regs.rows("AuthDetail")) == 2  # interleaved, kept apart by name
        assert regs.complete is not None
        assert (regs.complete.get("Registered"), regs.complete.get("NotRegistered")) == ("1", "1")
        channels = await conn.action("CoreShowChannels")
        assert channels.complete is not None
        assert int(channels.complete.get("ListItems") or -1) == len(channels.events)
    finally:
        await conn.close()


async def test_refused_actions_are_told_apart(pbx: SimPbx) -> None:
    conn = AmiConnection(target(pbx))
    await conn.open()
    try:
        with pytest.raises(AmiActionError) as unknown:
            await conn.action("SIPpeers")  # no chan_sip on this PBX
        assert unknown.value.unknown_action
        with pytest.raises(AmiActionError) as denied:
            await conn.action("PJSIPShowEndpoints")  # needs write = system
        assert denied.value.denied
        with pytest.raises(ValueError, match="not a read-only action"):
            await conn.action("Originate")
        assert (await conn.action("Ping")).response.get("Ping") == "Pong"  # still fine
    finally:
        await conn.close()


async def test_events_pushed_on_trunk_change(pbx: SimPbx) -> None:
    conn = AmiConnection(target(pbx))
    await conn.open()
    try:
        assert (await conn.next_event()).event == "FullyBooted"
        pbx.model.inject("trunk_down", {"trunk": "1"})
        event = await asyncio.wait_for(conn.next_event(), 2)
        assert (event.event, event.get("ChannelType"), event.get("Status")) == (
            "Registry", "PJSIP", "Rejected")  # fmt: skip
        assert (await conn.next_event()).event == "ContactStatus"
    finally:
        await conn.close()


async def test_restart_drops_the_session_and_it_comes_back(pbx: SimPbx) -> None:
    session = AmiSession(target(pbx), stable=0.0)
    try:
        await session.action("Ping")
        first = session.conn
        pbx.model.inject("restart")
        assert first is not None
        await asyncio.wait_for(first.closed.wait(), 2)
        assert isinstance(first.close_reason, AmiClosed)
        assert (await session.action("Ping")).response.get("Ping") == "Pong"
        assert session.attempts == 2
    finally:
        await session.close()


async def test_wrong_secret_is_auth_failed_and_not_retried_at_once(pbx: SimPbx) -> None:
    session = AmiSession(target(pbx, secret="wrong"))
    try:
        with pytest.raises(AmiAuthError):
            await session.action("CoreStatus")
        # Polls and the event reader asking again get the same answer at once: no new
        # login, and no wait for the next attempt (a minute away, below), which the 10 s
        # bound would catch however loaded the machine.
        async with asyncio.timeout(10):
            for _ in range(5):
                with pytest.raises(AmiAuthError):
                    await session.action("CoreStatus")
        assert (session.attempts, pbx.manager.logins_failed) == (1, 1)
        assert session.next_attempt - time.monotonic() > 40  # refused logins: a minute
        assert SECRET not in repr(session.target) and "wrong" not in repr(session.target)
    finally:
        await session.close()


async def test_connection_refused_backs_off(tmp_path: Path) -> None:
    pbx = await start_pbx(tmp_path)
    port = pbx.port
    await pbx.servers.stop()
    session = AmiSession(target(pbx, port=port))
    try:
        for _ in range(3):
            with pytest.raises(AmiConnectError):
                await session.action("Ping")
        assert session.attempts == 1
    finally:
        await session.close()


async def test_stopped_asterisk_takes_no_session_until_it_is_started_again(pbx: SimPbx) -> None:
    """The software stopped while its host runs (lvgw-sim's app_stopped): the manager
    interface goes with it; started again, it answers."""
    pbx.model.inject("app_stopped")
    try:
        stopped = AmiConnection(target(pbx))
        with pytest.raises(AmiError):
            await stopped.open()
        await stopped.close()
    finally:
        pbx.model.clear("app_stopped")
    conn = AmiConnection(target(pbx))
    await conn.open()
    try:
        assert (await conn.action("CoreStatus")).response.get("Response") == "Success"
    finally:
        await conn.close()
