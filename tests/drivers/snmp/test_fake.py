"""The in-process fake behaves like an agent where the poller can tell."""

from __future__ import annotations

import pytest

from drivers.snmp.base import NO_SUCH, SnmpAuthError, SnmpClient, SnmpTarget, SnmpTimeout
from drivers.snmp.fake import FakeSnmpClient

TARGET = SnmpTarget("10.0.0.5", 161)


def fake() -> FakeSnmpClient:
    client = FakeSnmpClient()
    client.set_values(
        "10.0.0.5",
        161,
        {
            "1.3.6.1.2.1.1.5.0": b"sw1",
            "1.3.6.1.2.1.2.2.1.2.10": b"ge10",
            "1.3.6.1.2.1.2.2.1.2.9": b"ge9",
            "1.3.6.1.2.1.2.2.1.8.9": 1,
            "1.3.6.1.2.1.2.2.1.20.1": 0,  # another column: not in .2's walk
        },
    )
    return client


async def test_get_answers_in_request_order_with_no_such_for_unknown_oids() -> None:
    client: SnmpClient = fake()
    got = await client.get(TARGET, ["1.3.6.1.2.1.1.6.0", "1.3.6.1.2.1.1.5.0"])
    assert got == [("1.3.6.1.2.1.1.6.0", NO_SUCH), ("1.3.6.1.2.1.1.5.0", b"sw1")]


async def test_walk_follows_numeric_oid_order_root_by_root() -> None:
    client = fake()
    got = await client.walk(TARGET, ["1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.2.2.1.8"])
    assert got == [
        ("1.3.6.1.2.1.2.2.1.2.9", b"ge9"),
        ("1.3.6.1.2.1.2.2.1.2.10", b"ge10"),
        ("1.3.6.1.2.1.2.2.1.8.9", 1),
    ]
    assert [call.kind for call in client.calls] == ["walk"]


async def test_timeouts_and_auth_failures_can_be_switched_on_and_off() -> None:
    client = fake()
    client.set_timeout("10.0.0.5", 161)
    with pytest.raises(SnmpTimeout):
        await client.get(TARGET, ["1.3.6.1.2.1.1.5.0"])
    client.set_timeout("10.0.0.5", 161, False)
    client.set_auth_failure("10.0.0.5", 161)
    with pytest.raises(SnmpAuthError):
        await client.walk(TARGET, ["1.3.6.1.2.1.2.2.1.2"])
    client.set_auth_failure("10.0.0.5", 161, False)
    assert (await client.get(TARGET, ["1.3.6.1.2.1.1.5.0"]))[0][1] == b"sw1"
    with pytest.raises(SnmpTimeout):  # nobody at that address
        await client.get(SnmpTarget("10.0.0.6"), ["1.3.6.1.2.1.1.5.0"])
