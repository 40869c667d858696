"""The lean client against a scripted agent that misbehaves on purpose."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pysnmp.proto import rfc1902

from drivers.snmp.base import SnmpError, SnmpProtocolError, SnmpTarget, SnmpTimeout
from drivers.snmp.lean import LeanSnmpClient
from tests.drivers.snmp.scripted_agent import Behaviour, ScriptedAgent

pytestmark = pytest.mark.integration

COLUMNS = ["1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.2.2.1.8", "1.3.6.1.2.1.31.1.1.1.6"]
MIB = {
    "1.3.6.1.2.1.1.5.0": rfc1902.OctetString(b"sw"),
    **{f"{COLUMNS[0]}.{i}": rfc1902.OctetString(f"port{i}".encode()) for i in range(1, 8)},
    **{f"{COLUMNS[1]}.{i}": rfc1902.Integer32(1 + i % 2) for i in range(1, 8)},
    **{f"{COLUMNS[2]}.{i}": rfc1902.Counter64(2**40 + i) for i in range(1, 8)},
    "1.3.6.1.2.1.31.1.1.1.7.1": rfc1902.Counter64(5),  # next column: must not leak in
}
EXPECTED = [
    *[(f"{COLUMNS[0]}.{i}", f"port{i}".encode()) for i in range(1, 8)],
    *[(f"{COLUMNS[1]}.{i}", 1 + i % 2) for i in range(1, 8)],
    *[(f"{COLUMNS[2]}.{i}", 2**40 + i) for i in range(1, 8)],
]


@pytest.fixture
async def agent() -> AsyncIterator[ScriptedAgent]:
    scripted = await ScriptedAgent(dict(MIB)).start()
    try:
        yield scripted
    finally:
        scripted.close()


def target(agent: ScriptedAgent, version: str = "2c") -> SnmpTarget:
    return SnmpTarget("127.0.0.1", agent.port, version=version, timeout=0.3, retries=0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "behaviour",
    [
        Behaviour(),
        Behaviour(max_rows=2),
        Behaviour(max_rows=3, cut_row=True),
        Behaviour(max_rows=1, cut_row=True),
        Behaviour(too_big_above=2),
    ],
    ids=["full", "two-rows", "cut-rows", "one-short-row", "too-big"],
)
async def test_bulk_walk_copes_with_short_answers(
    agent: ScriptedAgent, lean: LeanSnmpClient, behaviour: Behaviour
) -> None:
    agent.behaviour = behaviour
    assert await lean.walk(target(agent), COLUMNS, max_repetitions=10) == EXPECTED


async def test_v1_walk_uses_getnext(lean: LeanSnmpClient) -> None:
    v1_mib = {oid: value for oid, value in MIB.items() if not oid.startswith("1.3.6.1.2.1.31.")}
    agent = await ScriptedAgent(v1_mib).start()  # v1 has no Counter64
    try:
        got = await lean.walk(target(agent, "1"), COLUMNS[:2])
    finally:
        agent.close()
    assert got == EXPECTED[:14]
    assert {kind for kind, _, _ in agent.requests} == {"next"}


async def test_answers_from_the_wrong_address_and_garbage_are_ignored(
    agent: ScriptedAgent, lean: LeanSnmpClient
) -> None:
    agent.behaviour = Behaviour(from_wrong_address_first=True, garbage_first=True)
    assert await lean.get(target(agent), ["1.3.6.1.2.1.1.5.0"]) == [("1.3.6.1.2.1.1.5.0", b"sw")]
    assert lean.stats.wrong_address == 1
    assert lean.stats.stray == 2


async def test_error_status_names_the_status_the_index_and_the_oid(
    agent: ScriptedAgent, lean: LeanSnmpClient
) -> None:
    agent.behaviour = Behaviour(error=(5, 2))
    with pytest.raises(
        SnmpProtocolError, match=r"genErr at varbind 2 \(1\.3\.6\.1\.2\.1\.1\.6\.0\)"
    ):
        await lean.get(target(agent), ["1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.6.0"])
    with pytest.raises(SnmpProtocolError, match="genErr"):
        await lean.walk(target(agent), COLUMNS)


async def test_oids_that_do_not_increase_end_the_walk_with_an_error(
    agent: ScriptedAgent, lean: LeanSnmpClient
) -> None:
    agent.behaviour = Behaviour(rewrite=lambda vbs: [(f"{COLUMNS[0]}.1", v) for _, v in vbs])
    with pytest.raises(SnmpProtocolError, match="do not increase"):
        await lean.walk(target(agent), COLUMNS[:1])


async def test_a_malformed_answer_is_a_protocol_error(
    agent: ScriptedAgent, lean: LeanSnmpClient
) -> None:
    # The header (and so the request-id) is intact; the value has a multi-byte tag.
    agent.behaviour = Behaviour(corrupt=lambda packet: packet.replace(b"\x04\x02sw", b"\x5f\x02sw"))
    with pytest.raises(SnmpProtocolError, match="multi-byte"):
        await lean.get(target(agent), ["1.3.6.1.2.1.1.5.0"])


async def test_close_ends_waiting_requests(agent: ScriptedAgent) -> None:
    import asyncio

    client = LeanSnmpClient()
    agent.behaviour = Behaviour(silent=True)
    slow = SnmpTarget("127.0.0.1", agent.port, timeout=30, retries=0)
    task = asyncio.create_task(client.get(slow, ["1.3.6.1.2.1.1.5.0"]))
    await agent.received.wait()
    await client.close()
    with pytest.raises(SnmpError, match="closed"):
        await task
    assert not isinstance(task.exception(), SnmpTimeout)


async def test_an_agent_answering_only_garbage_times_out_saying_so(
    agent: ScriptedAgent, lean: LeanSnmpClient
) -> None:
    agent.behaviour = Behaviour(corrupt=lambda packet: b"not SNMP at all")
    with pytest.raises(SnmpTimeout, match="not SNMP came back") as raised:
        await lean.get(target(agent), ["1.3.6.1.2.1.1.5.0"])
    assert raised.value.noise == 1
    agent.behaviour = Behaviour(silent=True)
    with pytest.raises(SnmpTimeout) as silent:
        await lean.get(target(agent), ["1.3.6.1.2.1.1.5.0"])
    assert silent.value.noise == 0
