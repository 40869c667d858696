"""The trap receiver's settings, its output and its counters: plain frozen dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from drivers.snmp.base import VarBind

Version = Literal["1", "2c", "3"]
AuthProtocol = Literal["none", "md5", "sha", "sha224", "sha256", "sha384", "sha512"]
# "aes192"/"aes256" extend the key as in draft-blumenthal (net-snmp's AES-192/AES-256);
# the "c" variants extend it as Cisco and many other vendors do (net-snmp's AES-192-C).
PrivProtocol = Literal["none", "des", "aes", "aes192", "aes256", "aes192c", "aes256c"]


class TrapReceiverError(Exception):
    """The receiver cannot run: the socket cannot be opened, or pysnmp refused the setup."""


class TrapReceiverClosed(TrapReceiverError):
    """``get()`` on a receiver that is closed and has no buffered message left."""


@dataclass(frozen=True, slots=True)
class TrapV3User:
    """An SNMPv3 USM user allowed to send notifications.

    Informs are authenticated against our own engine id, which the sender discovers.
    A v3 TRAP is authenticated against the *sender's* engine id, which must be known
    in advance: set ``engine_id`` to it (net-snmp: ``snmptrap -e``), or the sender's
    traps are rejected as ``unknown_user``.
    """

    user: str
    auth_protocol: AuthProtocol = "none"
    auth_key: str = field(default="", repr=False)
    priv_protocol: PrivProtocol = "none"
    priv_key: str = field(default="", repr=False)
    engine_id: bytes | None = None

    def __post_init__(self) -> None:
        where = f"v3 user {self.user!r}"
        if self.auth_protocol not in get_args(AuthProtocol):
            raise ValueError(f"{where}: unknown auth protocol {self.auth_protocol!r}")
        if self.priv_protocol not in get_args(PrivProtocol):
            raise ValueError(f"{where}: unknown priv protocol {self.priv_protocol!r}")
        if self.priv_protocol != "none" and self.auth_protocol == "none":
            raise ValueError(f"{where}: privacy needs an auth protocol")
        for name, protocol, key in (
            ("auth", self.auth_protocol, self.auth_key),
            ("priv", self.priv_protocol, self.priv_key),
        ):
            if protocol != "none" and len(key) < 8:  # RFC 3414 11.2: at least 8 octets
                raise ValueError(f"{where}: {name} key must be 8 characters or more")
        if self.engine_id is not None and not 5 <= len(self.engine_id) <= 32:
            raise ValueError(f"{where}: engine id must be 5 to 32 bytes")


@dataclass(frozen=True, slots=True)
class TrapReceiverConfig:
    """Where to listen and whom to accept. No community and no user accepts nothing."""

    host: str = "0.0.0.0"
    port: int = 162
    communities: tuple[str, ...] = field(default=(), repr=False)
    v3_users: tuple[TrapV3User, ...] = ()
    # Our own engine id, which v3 inform senders discover; None lets pysnmp make one.
    engine_id: bytes | None = None
    # Messages held for the consumer; beyond this the oldest is dropped and counted.
    queue_size: int = 10_000
    # ... and their datagrams' bytes (a datagram may be 64 kB: 10,000 of them, 640 MB).
    queue_bytes: int = 8 * 1024 * 1024
    # Socket receive buffer asked of the kernel for trap storms (capped by rmem_max).
    receive_buffer_bytes: int = 4 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        if self.queue_bytes < 65536:
            raise ValueError("queue_bytes must be at least 65536 (one datagram)")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is out of range")
        if self.engine_id is not None and not 5 <= len(self.engine_id) <= 32:
            raise ValueError("engine id must be 5 to 32 bytes")


@dataclass(frozen=True, slots=True)
class TrapMessage:
    """One received notification, in SNMPv2 form whatever version carried it."""

    sender_host: str  # the UDP source address, exactly as received
    sender_port: int
    version: Version
    # The community (v1/v2c) or the USM user name (v3) that authenticated it.
    community_or_user: str = field(repr=False)
    trap_oid: str
    uptime: int | None  # the sender's sysUpTime.0, hundredths of a second
    varbinds: tuple[VarBind, ...]  # without sysUpTime.0 and snmpTrapOID.0
    received_at_monotonic: float  # time.monotonic() when the datagram was read
    inform: bool = False  # an inform, already acknowledged to the sender


@dataclass(frozen=True, slots=True)
class TrapStats:
    """Counters since the receiver started."""

    received: int  # notifications put in the buffer (those dropped later included)
    by_version: Mapping[str, int]
    informs: int  # of which informs (each acknowledged)
    dropped: int  # the buffer was full: the oldest message made room
    rejected: int  # datagrams refused: see rejected_by_reason
    rejected_by_reason: Mapping[str, int]
    socket_drops: int | None  # the kernel's drops on our socket (Linux), None if unknown
