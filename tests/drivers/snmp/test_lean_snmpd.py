"""The lean v1/v2c client against net-snmp's snmpd, refereed by net-snmp's own tools."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time

import pytest

from drivers.snmp.base import NO_SUCH, SnmpTarget, SnmpTimeout
from drivers.snmp.lean import LeanSnmpClient
from tests.drivers.snmp import netsnmp
from tests.realservers import Snmpd

pytestmark = pytest.mark.integration

SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME = "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.3.0"
SYS_NAME, SYS_LOCATION = "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.6.0"
IF_ENTRY = "1.3.6.1.2.1.2.2.1"
# ifIndex, ifDescr, ifType, ifMtu, ifSpeed, ifPhysAddress, ifAdminStatus, ifOperStatus:
# columns whose values do not move between two walks.
STABLE_COLUMNS = [f"{IF_ENTRY}.{c}" for c in (1, 2, 3, 4, 5, 6, 7, 8)]
COUNTER_COLUMNS = [f"{IF_ENTRY}.{c}" for c in (10, 16)]


def target(snmpd: Snmpd, version: str = "2c", **kw: object) -> SnmpTarget:
    return SnmpTarget(snmpd.host, snmpd.port, version=version, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("version", ["1", "2c"])
async def test_get_system_scalars_match_snmpget(
    snmpd: Snmpd, lean: LeanSnmpClient, version: str
) -> None:
    oids = [SYS_DESCR, SYS_OBJECT_ID, SYS_NAME, SYS_LOCATION]
    got = await lean.get(target(snmpd, version), oids)
    expected = netsnmp.run(
        "snmpget", [f"-v{version}", "-c", "public", f"127.0.0.1:{snmpd.port}", *oids]
    )
    assert got == expected
    assert dict(got)[SYS_NAME] == b"lvgw-test-switch"
    assert str(dict(got)[SYS_OBJECT_ID]).startswith("1.3.6.1.4.1.8072.")


@pytest.mark.parametrize("version", ["1", "2c"])
async def test_get_missing_oid_is_no_such_and_the_rest_still_comes(
    snmpd: Snmpd, lean: LeanSnmpClient, version: str
) -> None:
    got = await lean.get(
        target(snmpd, version), [SYS_NAME, "1.3.6.1.2.1.1.99.0", SYS_UPTIME, "1.3.6.1.9.9.9"]
    )
    assert [oid for oid, _ in got] == [SYS_NAME, "1.3.6.1.2.1.1.99.0", SYS_UPTIME, "1.3.6.1.9.9.9"]
    assert got[0][1] == b"lvgw-test-switch"
    assert got[1][1] is NO_SUCH
    assert got[3][1] is NO_SUCH
    assert isinstance(got[2][1], int)
    assert got[2][1] >= 0


@pytest.mark.parametrize("max_repetitions", [1, 3, 25])
async def test_bulk_walk_of_if_columns_matches_snmpbulkwalk(
    snmpd: Snmpd, lean: LeanSnmpClient, max_repetitions: int
) -> None:
    got = await lean.walk(target(snmpd), STABLE_COLUMNS + COUNTER_COLUMNS, max_repetitions)
    expected = [vb for root in STABLE_COLUMNS for vb in netsnmp.bulkwalk(snmpd.port, root)]
    stable = len(expected)
    assert got[:stable] == expected
    assert any(value == b"lo" for _, value in got)  # loopback is always there
    counters = [vb for root in COUNTER_COLUMNS for vb in netsnmp.bulkwalk(snmpd.port, root)]
    assert [oid for oid, _ in got[stable:]] == [oid for oid, _ in counters]
    assert all(isinstance(value, int) for _, value in got[stable:])


async def test_v1_walk_matches_snmpwalk(snmpd: Snmpd, lean: LeanSnmpClient) -> None:
    got = await lean.walk(target(snmpd, "1"), STABLE_COLUMNS)
    expected = [vb for root in STABLE_COLUMNS for vb in netsnmp.bulkwalk(snmpd.port, root, "1")]
    assert got == expected
    assert got


@pytest.mark.parametrize("version", ["1", "2c"])
async def test_walk_of_empty_and_past_the_end_subtrees(
    snmpd: Snmpd, lean: LeanSnmpClient, version: str
) -> None:
    # .99 has no column; 1.3.6.1.9 lies past everything snmpd has (endOfMibView in
    # v2c, noSuchName in v1), and must not stop the other root.
    got = await lean.walk(target(snmpd, version), [f"{IF_ENTRY}.99", "1.3.6.1.9", f"{IF_ENTRY}.2"])
    assert got == netsnmp.bulkwalk(snmpd.port, f"{IF_ENTRY}.2")


async def test_wrong_community_times_out_without_crashing(
    snmpd: Snmpd, lean: LeanSnmpClient
) -> None:
    wrong = target(snmpd, community="private", timeout=0.2, retries=1)
    with pytest.raises(SnmpTimeout):
        await lean.get(wrong, [SYS_NAME])
    assert (await lean.get(target(snmpd), [SYS_NAME]))[0][1] == b"lvgw-test-switch"


async def test_dead_port_times_out_within_the_retry_budget(lean: LeanSnmpClient) -> None:
    # An agent that never answers: a socket that only counts the requests that arrive.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.setblocking(False)
        dead = SnmpTarget("127.0.0.1", silent.getsockname()[1], timeout=0.2, retries=2)
        started = time.monotonic()
        with pytest.raises(SnmpTimeout, match="3 attempt"):
            async with asyncio.timeout(30):  # a hang, not a slow machine
                await lean.walk(dead, [IF_ENTRY])
        elapsed = time.monotonic() - started
        requests = 0
        with contextlib.suppress(BlockingIOError):
            while silent.recv(65535):
                requests += 1
    # Three attempts, each given its whole timeout: counted, and the time waited is a
    # lower bound only, so that a loaded machine cannot fail it.
    assert requests == 3
    assert elapsed >= 0.6


async def test_300_concurrent_requests_each_get_their_own_answer(
    snmpd: Snmpd, lean: LeanSnmpClient
) -> None:
    descr = dict(netsnmp.bulkwalk(snmpd.port, f"{IF_ENTRY}.2"))
    indexes = [oid.rsplit(".", 1)[1] for oid in descr]
    # No retry: a dropped answer must fail the test. snmpd answers the 320 requests one
    # after another; on a loaded machine the last of them took longer than 2 s.
    agent = target(snmpd, timeout=10.0, retries=0)

    async def one(i: int) -> None:
        index = indexes[i % len(indexes)]
        oids = [f"{IF_ENTRY}.2.{index}", SYS_NAME][:: 1 if i % 2 else -1]
        got = dict(await lean.get(agent, oids))
        assert got[f"{IF_ENTRY}.2.{index}"] == descr[f"{IF_ENTRY}.2.{index}"]
        assert got[SYS_NAME] == b"lvgw-test-switch"

    async def walker() -> None:
        assert await lean.walk(agent, [f"{IF_ENTRY}.2"], 2) == list(descr.items())

    async with asyncio.TaskGroup() as group:
        for i in range(300):
            group.create_task(one(i))
        for _ in range(20):
            group.create_task(walker())
    assert lean.stats.stray == 0
    assert lean.stats.wrong_address == 0
