"""The pysnmp-based client for SNMPv3 against net-snmp's snmpd and its own tools."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import pytest

from drivers.snmp.base import NO_SUCH, SnmpAuthError, SnmpTarget, SnmpTimeout, V3Credentials
from drivers.snmp.pysnmp_client import PysnmpClient
from tests.drivers.snmp import netsnmp
from tests.drivers.snmp.conftest import Snmpd3
from tests.drivers.snmp.test_lean_snmpd import (
    IF_ENTRY,
    STABLE_COLUMNS,
    SYS_DESCR,
    SYS_NAME,
    SYS_OBJECT_ID,
    SYS_UPTIME,
)
from tests.realservers import Snmpd

pytestmark = pytest.mark.integration

LVGW = V3Credentials(
    Snmpd.V3_USER, "sha", Snmpd.V3_AUTH, "aes", Snmpd.V3_PRIV
)  # the snmpd fixture's authPriv user
V3_ARGS = ["-v3", "-l", "authPriv", "-u", Snmpd.V3_USER, "-a", "SHA", "-A", Snmpd.V3_AUTH,
           "-x", "AES", "-X", Snmpd.V3_PRIV]  # fmt: skip


def v3_target(agent: Snmpd, creds: V3Credentials = LVGW, **kw: object) -> SnmpTarget:
    return SnmpTarget(agent.host, agent.port, version="3", v3=creds, **kw)  # type: ignore[arg-type]


async def test_authpriv_get_matches_snmpget(snmpd: Snmpd, pysnmp_client: PysnmpClient) -> None:
    oids = [SYS_DESCR, SYS_OBJECT_ID, SYS_NAME, "1.3.6.1.2.1.1.99.0"]
    got = await pysnmp_client.get(v3_target(snmpd), oids)
    expected = netsnmp.run("snmpget", [*V3_ARGS, f"127.0.0.1:{snmpd.port}", *oids[:3]])
    assert got[:3] == expected
    assert got[2] == (SYS_NAME, b"lvgw-test-switch")
    assert got[3] == ("1.3.6.1.2.1.1.99.0", NO_SUCH)


@pytest.mark.parametrize("max_repetitions", [2, 25])
async def test_authpriv_walk_matches_snmpbulkwalk(
    snmpd: Snmpd, pysnmp_client: PysnmpClient, max_repetitions: int
) -> None:
    got = await pysnmp_client.walk(v3_target(snmpd), STABLE_COLUMNS, max_repetitions)
    expected = [
        vb
        for root in STABLE_COLUMNS
        for vb in netsnmp.run("snmpbulkwalk", [*V3_ARGS, f"127.0.0.1:{snmpd.port}", root])
    ]
    assert got == expected
    assert (f"{IF_ENTRY}.2.1", b"lo") in got


@pytest.mark.parametrize("user", sorted(Snmpd3.USERS))
async def test_every_auth_and_priv_protocol(
    snmpd3: Snmpd3, pysnmp_client: PysnmpClient, user: str
) -> None:
    auth, priv = Snmpd3.USERS[user]
    creds = V3Credentials(
        user,
        auth[1],  # type: ignore[arg-type]
        Snmpd.V3_AUTH,
        priv[1] if priv else "none",  # type: ignore[arg-type]
        Snmpd.V3_PRIV if priv else "",
    )
    got = await pysnmp_client.get(v3_target(snmpd3, creds), [SYS_NAME, SYS_UPTIME])
    assert got[0] == (SYS_NAME, b"lvgw-test-switch")
    assert isinstance(got[1][1], int)


async def test_wrong_auth_key_is_an_auth_error_and_the_right_one_still_works(
    snmpd: Snmpd, pysnmp_client: PysnmpClient
) -> None:
    # Same user name, different keys, one client: they must not overwrite each other.
    wrong = V3Credentials(Snmpd.V3_USER, "sha", "not-the-key", "aes", Snmpd.V3_PRIV)
    assert (await pysnmp_client.get(v3_target(snmpd), [SYS_NAME]))[0][1] == b"lvgw-test-switch"
    with pytest.raises(SnmpAuthError, match="lvgw"):
        await pysnmp_client.get(v3_target(snmpd, wrong, timeout=0.5, retries=0), [SYS_NAME])
    assert (await pysnmp_client.get(v3_target(snmpd), [SYS_NAME]))[0][1] == b"lvgw-test-switch"


async def test_unknown_user_is_an_auth_error(snmpd: Snmpd, pysnmp_client: PysnmpClient) -> None:
    nobody = V3Credentials("nobody", "sha", Snmpd.V3_AUTH, "aes", Snmpd.V3_PRIV)
    with pytest.raises(SnmpAuthError, match="nobody"):
        await pysnmp_client.walk(v3_target(snmpd, nobody, timeout=0.5, retries=0), [IF_ENTRY])


async def test_wrong_privacy_key_times_out(snmpd: Snmpd, pysnmp_client: PysnmpClient) -> None:
    # net-snmp drops a PDU it cannot decrypt without a report (its own snmpget times
    # out too), so a wrong privacy key can only show as no answer.
    wrong = V3Credentials(Snmpd.V3_USER, "sha", Snmpd.V3_AUTH, "aes", "not-the-key")
    with pytest.raises(SnmpTimeout):
        await pysnmp_client.get(v3_target(snmpd, wrong, timeout=0.3, retries=0), [SYS_NAME])


async def test_dead_port_times_out_within_the_retry_budget(pysnmp_client: PysnmpClient) -> None:
    # An agent that never answers: a socket that only counts the requests that arrive.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.setblocking(False)
        dead = SnmpTarget(
            "127.0.0.1", silent.getsockname()[1], version="3", v3=LVGW, timeout=0.2, retries=1
        )
        started = time.monotonic()
        with pytest.raises(SnmpTimeout):
            async with asyncio.timeout(30):  # a hang, not a slow machine
                await pysnmp_client.get(dead, [SYS_NAME])
        waited = time.monotonic() - started
        requests = 0
        with contextlib.suppress(BlockingIOError):
            while silent.recv(65535):
                requests += 1
    # The first try and one retry (SNMPv3's engine discovery), then it gives up: counted,
    # not timed, so that a loaded machine cannot fail it. It waited out both timeouts.
    assert requests == 2
    assert waited >= 0.4


@pytest.mark.parametrize("version", ["1", "2c"])
async def test_v1_and_v2c_agree_with_the_lean_client(
    snmpd: Snmpd, pysnmp_client: PysnmpClient, version: str
) -> None:
    from drivers.snmp.lean import LeanSnmpClient

    target = SnmpTarget(snmpd.host, snmpd.port, version=version)  # type: ignore[arg-type]
    lean = LeanSnmpClient()
    try:
        oids = [SYS_DESCR, SYS_OBJECT_ID, SYS_NAME, "1.3.6.1.2.1.1.99.0"]
        assert await pysnmp_client.get(target, oids) == await lean.get(target, oids)
        assert await pysnmp_client.walk(target, STABLE_COLUMNS, 3) == await lean.walk(
            target, STABLE_COLUMNS, 3
        )
    finally:
        await lean.close()
