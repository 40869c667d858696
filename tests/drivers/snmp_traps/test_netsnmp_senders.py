"""net-snmp's snmptrap and snmpinform as real senders: v1, v2c and v3, good and bad."""

from __future__ import annotations

import time

import pytest

from tests.drivers.snmp_traps.helpers import (
    AUTH_KEY,
    COMMUNITY,
    PRIV_KEY,
    SENDER_ENGINE_ID,
    NetSnmp,
    StartReceiver,
    next_message,
    stats_when,
    target,
)
from tests.realservers import free_port

pytestmark = pytest.mark.integration

LINK_DOWN = "1.3.6.1.6.3.1.1.5.3"
IF_INDEX_3 = "1.3.6.1.2.1.2.2.1.1.3"
ENGINE_HEX = "0x" + SENDER_ENGINE_ID.hex()


async def test_v2c_trap_reaches_the_consumer_within_100_ms(
    start_receiver: StartReceiver, netsnmp: NetSnmp
) -> None:
    receiver = await start_receiver()
    sender_port = free_port()
    spawned_at = time.monotonic()
    sent = await netsnmp.run(
        "snmptrap",
        # Send from another loopback address and a fixed port: the sender must be exact.
        f"--clientaddr=127.0.0.2:{sender_port}",
        "--clientaddrUsesPort=yes",
        "-v", "2c", "-c", COMMUNITY, target(receiver), "12345", LINK_DOWN,
        IF_INDEX_3, "i", "3",
        "1.3.6.1.2.1.2.2.1.2.3", "s", "Gi0/3",
        "1.3.6.1.2.1.2.2.1.7.3", "i", "2",
        "1.3.6.1.4.1.99.1", "o", "1.3.6.1.4.1.99.2",
        "1.3.6.1.4.1.99.2", "a", "192.0.2.9",
        "1.3.6.1.4.1.99.3", "c", "4294967295",
        "1.3.6.1.4.1.99.4", "u", "7",
        "1.3.6.1.4.1.99.5", "t", "500",
        "1.3.6.1.4.1.99.6", "C", "18446744073709551615",
        "1.3.6.1.4.1.99.7", "x", "00ff10",
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    message = await next_message(receiver)
    consumed_at = time.monotonic()

    assert consumed_at - sent.exited_at < 0.1, "the consumer got the trap too late"
    assert spawned_at <= message.received_at_monotonic <= consumed_at
    assert (message.sender_host, message.sender_port) == ("127.0.0.2", sender_port)
    assert message.version == "2c"
    assert message.community_or_user == COMMUNITY
    assert not message.inform
    assert message.trap_oid == LINK_DOWN
    assert message.uptime == 12345
    assert message.varbinds == (
        (IF_INDEX_3, 3),
        ("1.3.6.1.2.1.2.2.1.2.3", b"Gi0/3"),
        ("1.3.6.1.2.1.2.2.1.7.3", 2),
        ("1.3.6.1.4.1.99.1", "1.3.6.1.4.1.99.2"),
        ("1.3.6.1.4.1.99.2", "192.0.2.9"),
        ("1.3.6.1.4.1.99.3", 4294967295),
        ("1.3.6.1.4.1.99.4", 7),
        ("1.3.6.1.4.1.99.5", 500),
        ("1.3.6.1.4.1.99.6", 18446744073709551615),
        ("1.3.6.1.4.1.99.7", b"\x00\xff\x10"),
    )
    stats = receiver.stats()
    assert (stats.received, stats.by_version["2c"], stats.rejected) == (1, 1, 0)
    assert receiver.pending == 0


async def test_v2c_inform_is_acknowledged(start_receiver: StartReceiver, netsnmp: NetSnmp) -> None:
    receiver = await start_receiver()
    # snmpinform exits 0 only once the receiver has acknowledged the inform.
    sent = await netsnmp.run(
        "snmpinform", "-r", "0", "-t", "2", "-v", "2c", "-c", COMMUNITY, target(receiver),
        "", "1.3.6.1.6.3.1.1.5.4", IF_INDEX_3, "i", "3",
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    message = await next_message(receiver)
    assert message.inform
    assert (message.version, message.trap_oid) == ("2c", "1.3.6.1.6.3.1.1.5.4")
    assert message.varbinds == ((IF_INDEX_3, 3),)
    assert isinstance(message.uptime, int)
    assert receiver.stats().informs == 1


async def test_v1_enterprise_specific_trap_is_converted(
    start_receiver: StartReceiver, netsnmp: NetSnmp
) -> None:
    receiver = await start_receiver()
    sent = await netsnmp.run(
        "snmptrap", "-v", "1", "-c", COMMUNITY, target(receiver),
        "1.3.6.1.4.1.8072.2.3", "192.0.2.7", "6", "17", "4200",
        "1.3.6.1.2.1.1.5.0", "s", "ups-1",
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    message = await next_message(receiver)
    assert message.version == "1"
    assert message.community_or_user == COMMUNITY
    # RFC 3584 3.1: enterprise, then 0, then the specific trap number.
    assert message.trap_oid == "1.3.6.1.4.1.8072.2.3.0.17"
    assert message.uptime == 4200
    # The v1 varbinds, then snmpTrapAddress.0 (agent-addr) and snmpTrapEnterprise.0.
    assert message.varbinds == (
        ("1.3.6.1.2.1.1.5.0", b"ups-1"),
        ("1.3.6.1.6.3.18.1.3.0", "192.0.2.7"),
        ("1.3.6.1.6.3.1.1.4.3.0", "1.3.6.1.4.1.8072.2.3"),
    )
    assert message.sender_host == "127.0.0.1"
    assert receiver.stats().by_version["1"] == 1


@pytest.mark.parametrize(
    ("generic", "trap_oid"),
    [("0", "1.3.6.1.6.3.1.1.5.1"), ("2", LINK_DOWN), ("4", "1.3.6.1.6.3.1.1.5.5")],
)
async def test_v1_generic_trap_becomes_the_standard_trap_oid(
    start_receiver: StartReceiver, netsnmp: NetSnmp, generic: str, trap_oid: str
) -> None:
    receiver = await start_receiver()
    sent = await netsnmp.run(
        "snmptrap", "-v", "1", "-c", COMMUNITY, target(receiver),
        "1.3.6.1.4.1.8072", "192.0.2.8", generic, "0", "1",
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    message = await next_message(receiver)
    assert message.trap_oid == trap_oid
    assert message.varbinds[-1] == ("1.3.6.1.6.3.1.1.4.3.0", "1.3.6.1.4.1.8072")


@pytest.mark.parametrize(
    ("user", "auth", "priv"),
    [
        ("informer", "SHA", "AES"),
        ("strong", "SHA-512", "AES-256"),
        ("middle", "SHA-224", "AES-192"),
        ("legacy", "MD5", "DES"),
        ("signer", "SHA-384", None),  # authNoPriv
        ("anonymous", None, None),  # noAuthNoPriv
    ],
)
async def test_v3_inform_is_received_and_acknowledged(
    start_receiver: StartReceiver,
    netsnmp: NetSnmp,
    user: str,
    auth: str | None,
    priv: str | None,
) -> None:
    receiver = await start_receiver()
    if auth is None:
        security = ["-l", "noAuthNoPriv"]
    elif priv is None:
        security = ["-l", "authNoPriv", "-a", auth, "-A", AUTH_KEY]
    else:
        security = ["-l", "authPriv", "-a", auth, "-A", AUTH_KEY, "-x", priv, "-X", PRIV_KEY]
    sent = await netsnmp.run(
        "snmpinform", "-r", "0", "-t", "2", "-v", "3", "-u", user, *security,
        target(receiver), "", LINK_DOWN, IF_INDEX_3, "i", "3",
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    message = await next_message(receiver)
    assert (message.version, message.community_or_user, message.inform) == ("3", user, True)
    assert (message.trap_oid, message.varbinds) == (LINK_DOWN, ((IF_INDEX_3, 3),))
    # The engine id discovery before the inform is protocol, not a rejection.
    assert receiver.stats().rejected == 0


async def test_v3_trap_from_a_configured_engine_id_is_received(
    start_receiver: StartReceiver, netsnmp: NetSnmp
) -> None:
    receiver = await start_receiver()
    sent = await netsnmp.run(
        "snmptrap", "-v", "3", "-e", ENGINE_HEX, "-u", "trapper", "-l", "authPriv",
        "-a", "SHA-256", "-A", AUTH_KEY, "-x", "AES", "-X", PRIV_KEY,
        target(receiver), "777", LINK_DOWN, IF_INDEX_3, "i", "3",
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    message = await next_message(receiver)
    assert (message.version, message.community_or_user, message.inform) == ("3", "trapper", False)
    assert (message.trap_oid, message.uptime) == (LINK_DOWN, 777)
    assert message.varbinds == ((IF_INDEX_3, 3),)
    assert receiver.stats().by_version["3"] == 1


async def _assert_only_good_one_delivered(
    receiver_stats_reason: str,
    start_receiver: StartReceiver,
    netsnmp: NetSnmp,
    bad: list[str],
    bad_tool: str = "snmptrap",
) -> None:
    receiver = await start_receiver()
    await netsnmp.run(bad_tool, *bad[:-1], target(receiver), *bad[-1].split())
    stats = await stats_when(receiver, lambda s: s.rejected == 1)
    assert stats.rejected_by_reason[receiver_stats_reason] == 1
    assert stats.received == 0
    # A good trap after the bad one is the first thing the consumer sees.
    good = await netsnmp.run(
        "snmptrap", "-v", "2c", "-c", COMMUNITY, target(receiver), "1", "1.3.6.1.4.1.99.0.1"
    )
    assert good.returncode == 0, good.stderr
    assert (await next_message(receiver)).trap_oid == "1.3.6.1.4.1.99.0.1"
    assert receiver.pending == 0


async def test_wrong_community_is_rejected_and_counted(
    start_receiver: StartReceiver, netsnmp: NetSnmp
) -> None:
    bad = ["-v", "2c", "-c", "private", f"1 {LINK_DOWN}"]
    await _assert_only_good_one_delivered("bad_community", start_receiver, netsnmp, bad)


async def test_v1_trap_with_wrong_community_is_rejected(
    start_receiver: StartReceiver, netsnmp: NetSnmp
) -> None:
    bad = ["-v", "1", "-c", "private", "1.3.6.1.4.1.8072 192.0.2.1 6 1 1"]
    await _assert_only_good_one_delivered("bad_community", start_receiver, netsnmp, bad)


async def test_v3_trap_with_wrong_auth_key_is_rejected(
    start_receiver: StartReceiver, netsnmp: NetSnmp
) -> None:
    bad = [
        "-v", "3", "-e", ENGINE_HEX, "-u", "trapper", "-l", "authPriv",
        "-a", "SHA-256", "-A", "not-the-key", "-x", "AES", "-X", PRIV_KEY, f"1 {LINK_DOWN}",
    ]  # fmt: skip
    await _assert_only_good_one_delivered("wrong_digest", start_receiver, netsnmp, bad)


async def test_v3_trap_from_an_unknown_engine_id_is_rejected(
    start_receiver: StartReceiver, netsnmp: NetSnmp
) -> None:
    # The right user and keys, but an engine id the user was not configured with.
    bad = [
        "-v", "3", "-e", "0x80001f8880000000000000dead", "-u", "trapper", "-l", "authPriv",
        "-a", "SHA-256", "-A", AUTH_KEY, "-x", "AES", "-X", PRIV_KEY, f"1 {LINK_DOWN}",
    ]  # fmt: skip
    await _assert_only_good_one_delivered("unknown_user", start_receiver, netsnmp, bad)


async def test_v3_inform_with_wrong_priv_key_is_rejected_and_not_acknowledged(
    start_receiver: StartReceiver, netsnmp: NetSnmp
) -> None:
    receiver = await start_receiver()
    sent = await netsnmp.run(
        "snmpinform", "-r", "0", "-t", "1", "-v", "3", "-u", "informer", "-l", "authPriv",
        "-a", "SHA", "-A", AUTH_KEY, "-x", "AES", "-X", "not-the-key",
        target(receiver), "", LINK_DOWN,
    )  # fmt: skip
    assert sent.returncode != 0
    stats = await stats_when(receiver, lambda s: s.rejected >= 1)
    assert stats.rejected_by_reason["decryption_error"] >= 1
    assert (stats.received, receiver.pending) == (0, 0)


async def test_unknown_v3_user_is_rejected(start_receiver: StartReceiver, netsnmp: NetSnmp) -> None:
    bad = [
        "-v", "3", "-e", ENGINE_HEX, "-u", "stranger", "-l", "authNoPriv",
        "-a", "SHA", "-A", AUTH_KEY, f"1 {LINK_DOWN}",
    ]  # fmt: skip
    await _assert_only_good_one_delivered("unknown_user", start_receiver, netsnmp, bad)


async def test_v3_trap_below_the_users_security_level_is_rejected(
    start_receiver: StartReceiver, netsnmp: NetSnmp
) -> None:
    # "trapper" is configured for authPriv; pysnmp accepts exactly the configured level.
    bad = [
        "-v", "3", "-e", ENGINE_HEX, "-u", "trapper", "-l", "authNoPriv",
        "-a", "SHA-256", "-A", AUTH_KEY, f"1 {LINK_DOWN}",
    ]  # fmt: skip
    await _assert_only_good_one_delivered(
        "unsupported_security_level", start_receiver, netsnmp, bad
    )
