"""Unit tests of the value conversion, the RFC 3584 varbind order and the settings checks."""

from __future__ import annotations

from typing import Any

import pytest
from pysnmp.proto import rfc1155, rfc1902, rfc1905

from drivers.snmp.base import NO_SUCH
from drivers.snmp.trapreceiver.convert import (
    SNMP_TRAP_ADDRESS,
    SNMP_TRAP_COMMUNITY,
    SNMP_TRAP_ENTERPRISE,
    SNMP_TRAP_OID,
    SYS_UPTIME,
    split_notification,
    to_python,
)
from drivers.snmp.traps import TrapMessage, TrapReceiverConfig, TrapV3User


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (rfc1902.Integer32(-5), -5),
        (rfc1902.Counter32(4294967295), 4294967295),
        (rfc1902.Counter64(2**64 - 1), 2**64 - 1),
        (rfc1902.Gauge32(7), 7),
        (rfc1902.Unsigned32(8), 8),
        (rfc1902.TimeTicks(100), 100),
        (rfc1902.OctetString(b"\x00\xffa"), b"\x00\xffa"),
        (rfc1902.Opaque(b"\x9f\x78"), b"\x9f\x78"),
        (rfc1902.Bits(b"\x80"), b"\x80"),
        (rfc1902.ObjectIdentifier("1.3.6.1.4.1"), "1.3.6.1.4.1"),
        (rfc1902.IpAddress("192.0.2.1"), "192.0.2.1"),
        (rfc1155.IpAddress("198.51.100.2"), "198.51.100.2"),  # the v1 class
        (rfc1905.noSuchObject, NO_SUCH),
        (rfc1905.noSuchInstance, NO_SUCH),
        (rfc1905.endOfMibView, NO_SUCH),
        (rfc1902.Null(""), NO_SUCH),
    ],
)
def test_values_follow_the_driver_convention(value: Any, expected: object) -> None:
    converted = to_python(value)
    assert converted == expected
    assert type(converted) is type(expected)


def _raw(*varbinds: tuple[str, Any]) -> list[tuple[Any, Any]]:
    return [(rfc1902.ObjectIdentifier(oid), value) for oid, value in varbinds]


HEADER = (
    (SYS_UPTIME, rfc1902.TimeTicks(42)),
    (SNMP_TRAP_OID, rfc1902.ObjectIdentifier("1.3.6.1.4.1.9.0.5")),
)


def test_the_header_is_split_off() -> None:
    raw = _raw(*HEADER, ("1.3.6.1.2.1.1.5.0", rfc1902.OctetString(b"x")))
    assert split_notification(raw, from_v1=False) == (
        "1.3.6.1.4.1.9.0.5",
        42,
        (("1.3.6.1.2.1.1.5.0", b"x"),),
    )


def test_v1_extras_move_behind_the_varbinds_and_the_community_is_left_out() -> None:
    raw = _raw(
        *HEADER,
        (SNMP_TRAP_ADDRESS, rfc1902.IpAddress("192.0.2.1")),
        (SNMP_TRAP_COMMUNITY, rfc1902.OctetString(b"secret-community")),
        (SNMP_TRAP_ENTERPRISE, rfc1902.ObjectIdentifier("1.3.6.1.4.1.9")),
        ("1.3.6.1.2.1.1.5.0", rfc1902.OctetString(b"x")),
    )
    _, _, varbinds = split_notification(raw, from_v1=True)
    assert varbinds == (
        ("1.3.6.1.2.1.1.5.0", b"x"),
        (SNMP_TRAP_ADDRESS, "192.0.2.1"),
        (SNMP_TRAP_ENTERPRISE, "1.3.6.1.4.1.9"),
    )
    # A v2c trap that carries the same objects itself keeps them where they are.
    _, _, untouched = split_notification(raw, from_v1=False)
    assert untouched[1] == (SNMP_TRAP_COMMUNITY, b"secret-community")


@pytest.mark.parametrize(
    "raw",
    [
        _raw(HEADER[0]),
        _raw(HEADER[1], HEADER[0]),
        _raw(HEADER[0], (SNMP_TRAP_OID, rfc1902.Integer32(1))),
        _raw((SYS_UPTIME, rfc1902.OctetString(b"1")), HEADER[1]),
    ],
)
def test_a_pdu_without_the_notification_header_is_refused(raw: list[tuple[Any, Any]]) -> None:
    with pytest.raises(ValueError, match=r"sysUpTime\.0"):
        split_notification(raw, from_v1=False)


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({"auth_protocol": "sha1"}, "unknown auth protocol"),
        ({"auth_protocol": "sha", "auth_key": "k" * 8, "priv_protocol": "rc4"}, "unknown priv"),
        ({"priv_protocol": "aes", "priv_key": "k" * 8}, "privacy needs an auth protocol"),
        ({"auth_protocol": "sha", "auth_key": "short"}, "auth key must be 8"),
        ({"auth_protocol": "sha", "auth_key": "k" * 8, "priv_protocol": "aes"}, "priv key must"),
        ({"engine_id": b"1234"}, "engine id must be 5 to 32 bytes"),
    ],
)
def test_bad_v3_users_are_refused(kwargs: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        TrapV3User("u", **kwargs)


def test_bad_receiver_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="queue_size"):
        TrapReceiverConfig(queue_size=0)
    with pytest.raises(ValueError, match="out of range"):
        TrapReceiverConfig(port=70000)
    assert (TrapReceiverConfig().host, TrapReceiverConfig().port) == ("0.0.0.0", 162)


def test_secrets_do_not_print() -> None:
    user = TrapV3User("u", "sha", "auth-secret", "aes", "priv-secret")
    settings = TrapReceiverConfig(communities=("community-secret",), v3_users=(user,))
    message = TrapMessage("192.0.2.1", 162, "2c", "community-secret", "1.3", 0, (), 0.0)
    printed = repr(settings) + repr(message)
    for secret in ("auth-secret", "priv-secret", "community-secret"):
        assert secret not in printed
