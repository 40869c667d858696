"""SNMP trap and inform receiver: v1 and v2c traps, v2c informs, v3 traps and informs.

Each notification that passes authentication becomes one immutable ``TrapMessage``
in a bounded buffer that the consumer drains with ``await receiver.get()`` or
``async for message in receiver``. The receive path never waits for the consumer:
when the buffer is full (in messages or in bytes) the oldest message is dropped and
counted.

Values follow ``drivers.snmp.base`` (dotted numeric OIDs; int, bytes, dotted str,
``NO_SUCH``); SNMPv1 traps arrive converted to the SNMPv2 form of RFC 3584, see
``drivers.snmp.trapreceiver.convert``. The receiver knows nothing of devices: the
caller maps ``sender_host`` to a device.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import errno
import ipaddress
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Mapping
from types import MappingProxyType
from typing import Any, Self

from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import ntfrcv
from pysnmp.proto import rfc1902
from pysnmp.proto.api import v2c

from drivers.snmp.trapreceiver.convert import split_notification
from drivers.snmp.trapreceiver.model import (
    AuthProtocol,
    PrivProtocol,
    TrapMessage,
    TrapReceiverClosed,
    TrapReceiverConfig,
    TrapReceiverError,
    TrapStats,
    TrapV3User,
    Version,
)

__all__ = [
    "REJECTION_REASONS",
    "AuthProtocol",
    "PrivProtocol",
    "TrapMessage",
    "TrapReceiver",
    "TrapReceiverClosed",
    "TrapReceiverConfig",
    "TrapReceiverError",
    "TrapStats",
    "TrapV3User",
    "Version",
]

log = logging.getLogger(__name__)

_AUTH_PROTOCOLS: Mapping[str, Any] = {
    "none": config.USM_AUTH_NONE,
    "md5": config.USM_AUTH_HMAC96_MD5,
    "sha": config.USM_AUTH_HMAC96_SHA,
    "sha224": config.USM_AUTH_HMAC128_SHA224,
    "sha256": config.USM_AUTH_HMAC192_SHA256,
    "sha384": config.USM_AUTH_HMAC256_SHA384,
    "sha512": config.USM_AUTH_HMAC384_SHA512,
}
_PRIV_PROTOCOLS: Mapping[str, Any] = {
    "none": config.USM_PRIV_NONE,
    "des": config.USM_PRIV_CBC56_DES,
    "aes": config.USM_PRIV_CFB128_AES,
    "aes192": config.USM_PRIV_CFB192_AES_BLUMENTHAL,
    "aes256": config.USM_PRIV_CFB256_AES_BLUMENTHAL,
    "aes192c": config.USM_PRIV_CFB192_AES,
    "aes256c": config.USM_PRIV_CFB256_AES,
}

# pysnmp drops unauthenticated or malformed messages silently but counts each drop in
# its own MIB counters; the receiver reads them around every datagram to attribute the
# drop to its sender. usmStatsUnknownEngineIDs is left out: it also counts the
# discovery probe that precedes every v3 inform.
_REJECTION_COUNTERS: Mapping[tuple[str, str], str] = {
    ("__SNMPv2-MIB", "snmpInBadCommunityNames"): "bad_community",
    ("__SNMP-USER-BASED-SM-MIB", "usmStatsUnknownUserNames"): "unknown_user",
    ("__SNMP-USER-BASED-SM-MIB", "usmStatsWrongDigests"): "wrong_digest",
    ("__SNMP-USER-BASED-SM-MIB", "usmStatsDecryptionErrors"): "decryption_error",
    ("__SNMP-USER-BASED-SM-MIB", "usmStatsUnsupportedSecLevels"): "unsupported_security_level",
    ("__SNMP-USER-BASED-SM-MIB", "usmStatsNotInTimeWindows"): "not_in_time_window",
    ("__SNMPv2-MIB", "snmpInASNParseErrs"): "parse_error",
    ("__SNMPv2-MIB", "snmpInBadVersions"): "bad_version",
    ("__SNMP-MPD-MIB", "snmpInvalidMsgs"): "invalid_message",
    ("__SNMP-MPD-MIB", "snmpUnknownSecurityModels"): "invalid_message",
    ("__SNMP-MPD-MIB", "snmpUnknownPDUHandlers"): "not_a_notification",
}
_WARN_ONCE_LIMIT = 1024
# What a buffered message costs beyond its datagram's bytes (its Python objects), about.
MESSAGE_OVERHEAD = 512
_REJECTION_HINTS = {
    "unknown_user": " (for a v3 trap, is the sender's engine id configured for the user?)",
    "bad_community": " (the community is not one of the configured ones)",
}
REJECTION_REASONS = (*dict.fromkeys(_REJECTION_COUNTERS.values()), "malformed_notification")


class TrapReceiver:
    """Listens for notifications on one UDP socket with one pysnmp engine."""

    def __init__(self, settings: TrapReceiverConfig) -> None:
        self.settings = settings
        # Each buffered message with the bytes it counts against settings.queue_bytes.
        self._buffer: collections.deque[tuple[TrapMessage, int]] = collections.deque()
        self._buffered_bytes = 0
        self._wakeup = asyncio.Event()
        self._engine: Any = None
        self._socket: socket.socket | None = None
        self._address: tuple[str, int] | None = None
        self._closed = False
        self._community_by_index: dict[str, str] = {}
        self._v3_levels: dict[str, int] = {}  # user -> the security level configured for it
        self._counters: list[tuple[Any, str]] = []
        self._received = 0
        self._informs = 0
        self._dropped = 0
        self._by_version = dict.fromkeys(("1", "2c", "3"), 0)
        self._rejected = dict.fromkeys(REJECTION_REASONS, 0)
        self._warned: set[tuple[str, str]] = set()
        self._arrival: tuple[tuple[str, int], float] = (("", 0), 0.0)
        self._arrival_bytes = 0

    # -- lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        """Bind the socket and start receiving; TrapReceiverError if it cannot."""
        if self._engine is not None or self._closed:
            raise TrapReceiverError("a receiver starts once")
        sock = self._bind()
        host, port = sock.getsockname()[:2]
        self._address = (str(host), int(port))
        self._socket = sock
        try:
            self._engine = self._configured_engine()
            ipv6 = sock.family == socket.AF_INET6
            transport = (udp6.Udp6Transport() if ipv6 else udp.UdpTransport()).open_server_mode(
                sock=sock
            )
            config.add_transport(
                self._engine, udp6.DOMAIN_NAME if ipv6 else udp.DOMAIN_NAME, transport
            )
            # Route datagrams through our wrapper to attribute silent drops to a sender.
            dispatcher = self._engine.transport_dispatcher
            dispatcher.unregister_recv_callback()
            dispatcher.register_recv_callback(self._on_datagram)
            # open_server_mode() only schedules the endpoint's creation; wait for it.
            await transport._lport
        except BaseException as exc:
            await self._release()
            if isinstance(exc, Exception):
                raise TrapReceiverError(f"cannot start the SNMP trap receiver: {exc}") from exc
            raise
        log.info("listening for SNMP notifications on %s:%d", *self._address)

    async def close(self) -> None:
        """Release the socket and the engine; a waiting ``get()`` sees the end."""
        if self._closed:
            return
        self._closed = True
        self._wakeup.set()
        await self._release()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) bound by start(): port 0 in the settings picks a free one."""
        if self._address is None:
            raise TrapReceiverError("the receiver has not started")
        return self._address

    # -- consumer side ---------------------------------------------------------

    async def get(self) -> TrapMessage:
        """The oldest buffered message; waits for one. TrapReceiverClosed after close."""
        while not self._buffer:
            if self._closed:
                raise TrapReceiverClosed("the trap receiver is closed")
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._take()

    def get_nowait(self) -> TrapMessage | None:
        return self._take() if self._buffer else None

    def _take(self) -> TrapMessage:
        message, size = self._buffer.popleft()
        self._buffered_bytes -= size
        return message

    def __aiter__(self) -> AsyncIterator[TrapMessage]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[TrapMessage]:
        while True:
            try:
                yield await self.get()
            except TrapReceiverClosed:
                return

    @property
    def pending(self) -> int:
        return len(self._buffer)

    @property
    def pending_bytes(self) -> int:
        """What the buffered messages count against ``queue_bytes``."""
        return self._buffered_bytes

    def stats(self) -> TrapStats:
        return TrapStats(
            received=self._received,
            by_version=MappingProxyType(dict(self._by_version)),
            informs=self._informs,
            dropped=self._dropped,
            rejected=sum(self._rejected.values()),
            rejected_by_reason=MappingProxyType(dict(self._rejected)),
            socket_drops=self._socket_drops(),
        )

    # -- setup -----------------------------------------------------------------

    def _bind(self) -> socket.socket:
        host, port = self.settings.host, self.settings.port
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            _grow_receive_buffer(sock, self.settings.receive_buffer_bytes)
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            hint = ""
            if exc.errno in (errno.EACCES, errno.EPERM):
                hint = f" (port {port} < 1024 needs root or CAP_NET_BIND_SERVICE)"
            elif exc.errno == errno.EADDRINUSE:
                hint = " (another trap receiver, such as snmptrapd, may hold it)"
            raise TrapReceiverError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}{hint}"
            ) from exc
        sock.setblocking(False)
        return sock

    def _configured_engine(self) -> Any:
        local_id = self.settings.engine_id
        snmp_engine = engine.SnmpEngine(
            snmpEngineID=None if local_id is None else rfc1902.OctetString(local_id)
        )
        for number, community in enumerate(self.settings.communities):
            index = f"c{number}"  # the community itself may be longer than an index may be
            self._community_by_index[index] = community
            config.add_v1_system(snmp_engine, index, community)
        for user in self.settings.v3_users:
            level = _security_level(user)
            self._v3_levels[user.user] = max(level, self._v3_levels.get(user.user, level))
            # Informs: keys localized to our engine id. Traps: to the sender's.
            for engine_id in (None, user.engine_id) if user.engine_id else (None,):
                config.add_v3_user(
                    snmp_engine,
                    user.user,
                    _AUTH_PROTOCOLS[user.auth_protocol],
                    user.auth_key or None,
                    _PRIV_PROTOCOLS[user.priv_protocol],
                    user.priv_key or None,
                    securityEngineId=None if engine_id is None else rfc1902.OctetString(engine_id),
                )
        ntfrcv.NotificationReceiver(snmp_engine, self._on_notification)
        builder = snmp_engine.get_mib_builder()
        self._counters = [
            (builder.import_symbols(module, name)[0], reason)
            for (module, name), reason in _REJECTION_COUNTERS.items()
        ]
        return snmp_engine

    async def _release(self) -> None:
        """Close the transport and the socket, and wait for pysnmp's timer task to end."""
        snmp_engine, self._engine = self._engine, None
        looping_call = None
        if snmp_engine is not None and snmp_engine.transport_dispatcher is not None:
            looping_call = snmp_engine.transport_dispatcher.loopingcall
            snmp_engine.close_dispatcher()  # closes the transport, which closes the socket
        if self._socket is not None:
            self._socket.close()  # in case the transport never took it
        if looping_call is not None:
            # Cancelled by close_dispatcher(); wait() lets our own cancellation through.
            await asyncio.wait([looping_call])

    # -- receive path (synchronous, on the event loop) -------------------------

    def _on_datagram(self, dispatcher: Any, domain: Any, address: Any, message: bytes) -> None:
        """Every datagram goes through here on its way into pysnmp."""
        sender = (_plain_host(str(address[0])), int(address[1]))
        self._arrival = (sender, time.monotonic())
        self._arrival_bytes = len(message) + MESSAGE_OVERHEAD
        before = [int(counter.syntax) for counter, _ in self._counters]
        try:
            self._engine.message_dispatcher.receive_message(self._engine, domain, address, message)
        except Exception:
            # pyasn1 raises on some garbage (TypeError on a non-BER datagram) instead of
            # counting it: one hostile datagram must not reach the loop's error handler.
            log.debug("pysnmp failed on a datagram from %s:%d", *sender, exc_info=True)
            self._reject("parse_error", sender)
            return
        for (counter, reason), was in zip(self._counters, before, strict=True):
            if int(counter.syntax) != was:
                self._reject(reason, sender)

    def _reject(self, reason: str, sender: tuple[str, int]) -> None:
        self._rejected[reason] += 1
        # Warn once per sender and reason: a misconfigured device repeats itself. The set
        # is capped because the source address of a UDP datagram costs nothing to forge.
        key = (sender[0], reason)
        if key not in self._warned and len(self._warned) < _WARN_ONCE_LIMIT:
            self._warned.add(key)
            hint = _REJECTION_HINTS.get(reason, "")
            log.warning("rejected SNMP datagram from %s:%d: %s%s", *sender, reason, hint)
        else:
            log.debug("rejected SNMP datagram from %s:%d: %s", *sender, reason)

    def _on_notification(
        self,
        snmp_engine: Any,
        state_reference: Any,
        context_engine_id: Any,
        context_name: Any,
        varbinds: Any,
        cb_ctx: Any,
    ) -> None:
        """pysnmp's callback for every authenticated notification (informs already acked)."""
        context = snmp_engine.observer.get_execution_context("rfc3412.receiveMessage:request")
        sender, arrived = self._arrival
        user_level = self._v3_levels.get(str(context["securityName"]), _NO_AUTH_NO_PRIV)
        if int(context["messageProcessingModel"]) == 3 and context["securityLevel"] < user_level:
            # pysnmp checks the level only where it is authoritative (informs), not on traps.
            self._reject("unsupported_security_level", sender)
            return
        try:
            message = self._message(context, varbinds, sender, arrived)
        except (ValueError, TypeError, KeyError) as exc:
            log.debug("malformed SNMP notification from %s:%d: %s", *sender, exc)
            self._reject("malformed_notification", sender)
            return
        self._received += 1
        self._by_version[message.version] += 1
        self._informs += message.inform
        size = self._arrival_bytes
        while self._buffer and (
            len(self._buffer) >= self.settings.queue_size
            or self._buffered_bytes + size > self.settings.queue_bytes
        ):
            self._take()
            self._dropped += 1
        self._buffer.append((message, size))
        self._buffered_bytes += size
        self._wakeup.set()

    def _message(
        self, context: Mapping[str, Any], raw: Any, sender: tuple[str, int], arrived: float
    ) -> TrapMessage:
        model = int(context["messageProcessingModel"])
        security_name = str(context["securityName"])
        trap_oid, uptime, varbinds = split_notification(raw, from_v1=model == 0)
        return TrapMessage(
            sender_host=sender[0],
            sender_port=sender[1],
            version=_VERSIONS[model],
            community_or_user=self._community_by_index.get(security_name, security_name)
            if model < 3
            else security_name,
            trap_oid=trap_oid,
            uptime=uptime,
            varbinds=varbinds,
            received_at_monotonic=arrived,
            inform=context["pdu"].tagSet == _INFORM_TAG,
        )

    def _socket_drops(self) -> int | None:
        """The kernel's drop count for our socket, from /proc/self/net/udp (Linux only;
        /proc/net is hidden under the unit's ProcSubset=pid)."""
        sock = self._socket
        if sock is None or sock.fileno() < 0:
            return None
        inode = str(os.fstat(sock.fileno()).st_ino)
        table = "/proc/self/net/udp6" if sock.family == socket.AF_INET6 else "/proc/self/net/udp"
        try:
            with open(table, encoding="ascii") as lines:
                for line in lines:
                    fields = line.split()
                    if len(fields) > 12 and fields[9] == inode:
                        return int(fields[12])
        except OSError:
            return None
        return None


_INFORM_TAG = v2c.InformRequestPDU.tagSet
_NO_AUTH_NO_PRIV, _AUTH_NO_PRIV, _AUTH_PRIV = 1, 2, 3  # pysnmp's securityLevel values
_VERSIONS: Mapping[int, Version] = {0: "1", 1: "2c", 3: "3"}  # message processing models


def _grow_receive_buffer(sock: socket.socket, wanted: int) -> None:
    """Ask for a receive buffer that holds a trap storm while pysnmp decodes.

    The kernel caps SO_RCVBUF at net.core.rmem_max (208 KiB by default, a few hundred
    traps); with CAP_NET_ADMIN, SO_RCVBUFFORCE goes past the cap.
    """
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, wanted)
    force = getattr(socket, "SO_RCVBUFFORCE", None)
    # Linux reports twice the size asked for (the other half is bookkeeping).
    if force is not None and sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) < 2 * wanted:
        with contextlib.suppress(PermissionError):
            sock.setsockopt(socket.SOL_SOCKET, force, wanted)


def _security_level(user: TrapV3User) -> int:
    if user.priv_protocol != "none":
        return _AUTH_PRIV
    return _AUTH_NO_PRIV if user.auth_protocol != "none" else _NO_AUTH_NO_PRIV


def _plain_host(host: str) -> str:
    """An IPv4 sender reaching a dual-stack "::" socket as ::ffff:a.b.c.d is a.b.c.d."""
    if host.startswith("::ffff:"):
        mapped = ipaddress.IPv6Address(host).ipv4_mapped
        if mapped is not None:
            return str(mapped)
    return host
