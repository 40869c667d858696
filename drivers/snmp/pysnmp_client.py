"""The pysnmp 7 client, used for SNMPv3 (USM authentication and privacy).

One ``SnmpEngine`` serves every device (an engine costs about 1.1 MiB and 100 ms to
create, and each opens its own socket). pysnmp keeps one key set per USM user name
in an engine, so a second engine is made only when two devices share a user name
with different keys: engines grow with conflicting key sets, never with devices.

MIB lookups are off (``lookupMib=False``) and OIDs are numeric. Walks use
``bulk_cmd`` (GETNEXT on v1) driven by the same multi-column logic as the lean
client, which avoids ``bulk_walk_cmd``'s traps (one OID per call, a walk that runs
past the subtree by default, endless retries after a timeout).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Sequence
from typing import Any

from pyasn1.type import univ
from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    Udp6TransportTarget,
    UdpTransportTarget,
    bulk_cmd,
    get_cmd,
    next_cmd,
)
from pysnmp.proto import errind, rfc1902, rfc1905

from drivers.snmp import ber
from drivers.snmp.base import (
    NO_SUCH,
    SnmpAuthError,
    SnmpError,
    SnmpProtocolError,
    SnmpTarget,
    SnmpTimeout,
    SnmpValue,
    V3Credentials,
    VarBind,
)
from drivers.snmp.errors import accept_get_answer
from drivers.snmp.udp import RECEIVE_BUFFER_BYTES
from drivers.snmp.v3auth import usm_user_data
from drivers.snmp.walkstate import MultiColumnWalk

# USM reports and local USM failures: the agent or we refused the credentials.
_AUTH_FAILURES: tuple[type[errind.ErrorIndication], ...] = (
    errind.UnknownUserName,
    errind.WrongDigest,
    errind.UnknownEngineID,
    errind.DecryptionError,
    errind.UnknownSecurityName,
    errind.UnsupportedSecurityLevel,
    errind.NotInTimeWindow,
    errind.AuthenticationError,
    errind.AuthenticationFailure,
    errind.UnsupportedAuthProtocol,
    errind.UnsupportedPrivProtocol,
    errind.NoEncryption,
    errind.NoAuthentication,
    errind.EncryptionError,
)
_NO_SUCH_TYPES = (
    rfc1905.NoSuchObject,
    rfc1905.NoSuchInstance,
    rfc1905.EndOfMibView,
    univ.Null,
)


class PysnmpClient:
    """GET and table walks over pysnmp's high-level API (implements SnmpClient).

    Speaks v1, v2c and v3; the dispatcher sends it only v3. ``max_in_flight`` caps
    the requests pysnmp has outstanding on its single socket.
    """

    def __init__(self, max_in_flight: int = 128) -> None:
        self._max_in_flight = max_in_flight
        self._slots: asyncio.Semaphore | None = None
        self._engines: list[SnmpEngine] = []
        self._buffer_enlarged: set[int] = set()
        # user name -> the distinct key sets seen for it; the position picks the engine
        self._key_sets: dict[str, list[V3Credentials]] = {}
        self._auth: dict[SnmpTarget, tuple[int, Any]] = {}
        self._transports: dict[tuple[str, int, float, int], Any] = {}

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> list[VarBind]:
        if not oids:
            return []
        names = list(oids)
        values: list[SnmpValue] = [NO_SUCH] * len(names)
        remaining = list(range(len(names)))
        while remaining:
            status, index, varbinds = await self._call(
                get_cmd, target, [names[i] for i in remaining]
            )
            v1 = target.version == "1"
            if not accept_get_answer(status, index, len(varbinds), remaining, names, v1):
                continue
            for i, (oid, value) in zip(remaining, varbinds, strict=True):
                names[i] = oid
                values[i] = value
            break
        return list(zip(names, values, strict=True))

    async def walk(
        self, target: SnmpTarget, roots: Sequence[str], max_repetitions: int = 25
    ) -> list[VarBind]:
        if not roots:
            return []
        try:
            state = MultiColumnWalk(
                [ber.encode_oid(r) for r in roots],
                target.max_walk_varbinds,
                target.max_walk_bytes,
            )
        except ValueError as exc:
            raise SnmpError(str(exc)) from exc
        bulk = target.version != "1"
        repetitions = max(1, max_repetitions)
        while not state.done:
            request = [ber.decode_oid(oid) for oid in state.request_oids()]
            if bulk:
                status, index, varbinds = await self._call(
                    bulk_cmd, target, request, (0, repetitions)
                )
            else:
                status, index, varbinds = await self._call(next_cmd, target, request)
            raw = [(ber.encode_oid(oid), value) for oid, value in varbinds]
            repetitions = state.take_answer(status, index, raw, bulk, repetitions)
        decode = ber.decode_oid
        return [(decode(oid), value) for oid, value in state.results()]

    async def close(self) -> None:
        for engine in self._engines:
            engine.close_dispatcher()
        self._engines.clear()
        self._auth.clear()
        self._transports.clear()
        self._buffer_enlarged.clear()

    async def _call(
        self,
        command: Any,
        target: SnmpTarget,
        oids: Sequence[str],
        bulk_counters: tuple[int, int] | None = None,
    ) -> tuple[int, int, list[tuple[str, SnmpValue]]]:
        """Run one pysnmp command; (error-status, error-index, varbinds) or raise."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._max_in_flight)
        engine_index, auth = self._auth_for(target)
        engine = self._engine(engine_index)
        transport = await self._transport(target)
        objects = [ObjectType(ObjectIdentity(oid)) for oid in oids]
        extra = bulk_counters or ()
        async with self._slots:
            try:
                indication, status, index, varbinds = await command(
                    engine, auth, transport, ContextData(), *extra, *objects, lookupMib=False
                )
            except PySnmpError as exc:
                raise SnmpError(f"{target.host}:{target.port}: {exc}") from exc
        self._enlarge_buffer(engine)
        if indication:
            raise _indication_error(indication, target)
        return int(status), int(index), [(_dotted(vb[0]), _value(vb[1])) for vb in varbinds]

    def _engine(self, index: int) -> SnmpEngine:
        while len(self._engines) <= index:
            self._engines.append(SnmpEngine())
        return self._engines[index]

    def _auth_for(self, target: SnmpTarget) -> tuple[int, Any]:
        cached = self._auth.get(target)
        if cached is not None:
            return cached
        if target.version == "3":
            if target.v3 is None:
                raise SnmpError(f"{target.host}:{target.port}: v3 without credentials")
            key_sets = self._key_sets.setdefault(target.v3.user, [])
            if target.v3 not in key_sets:
                key_sets.append(target.v3)
            entry: tuple[int, Any] = (key_sets.index(target.v3), usm_user_data(target.v3))
        else:
            entry = (0, CommunityData(target.community, mpModel=0 if target.version == "1" else 1))
        self._auth[target] = entry
        return entry

    async def _transport(self, target: SnmpTarget) -> Any:
        key = (target.host, target.port, target.timeout, target.retries)
        transport = self._transports.get(key)
        if transport is None:
            kind = Udp6TransportTarget if ":" in target.host else UdpTransportTarget
            try:
                transport = await kind.create(
                    (target.host, target.port), timeout=target.timeout, retries=target.retries
                )
            except PySnmpError as exc:
                raise SnmpError(f"cannot reach {target.host}: {exc}") from exc
            self._transports[key] = transport
        return transport

    def _enlarge_buffer(self, engine: SnmpEngine) -> None:
        # pysnmp opens its socket on the first request; enlarge its receive buffer then,
        # or a burst of answers to parallel requests overflows the default one.
        if id(engine) in self._buffer_enlarged:
            return
        self._buffer_enlarged.add(id(engine))
        carrier = engine.transport_dispatcher.get_transport(udp.DOMAIN_NAME)
        raw = getattr(getattr(carrier, "transport", None), "get_extra_info", None)
        sock = raw("socket") if raw is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)


def _dotted(name: Any) -> str:
    return ".".join(map(str, tuple(name)))


def _value(value: Any) -> SnmpValue:
    """pysnmp's value objects to the driver's plain values (see base.py)."""
    if isinstance(value, _NO_SUCH_TYPES):  # before OCTET STRING: pysnmp derives them from it
        return NO_SUCH
    if isinstance(value, rfc1902.IpAddress):
        return "{}.{}.{}.{}".format(*value.asNumbers())
    # pysnmp hands back pyasn1's base types for some values: test against those.
    if isinstance(value, univ.OctetString):  # OCTET STRING, Opaque
        return bytes(value.asOctets())
    if isinstance(value, univ.ObjectIdentifier):
        return _dotted(value)
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise SnmpProtocolError(f"unexpected value type {type(value).__name__}") from exc


def _indication_error(indication: Any, target: SnmpTarget) -> SnmpError:
    where = f"{target.host}:{target.port}"
    if isinstance(indication, errind.RequestTimedOut):
        return SnmpTimeout(
            f"no answer from {where} after {target.retries + 1} attempt(s) of {target.timeout:g} s"
        )
    if isinstance(indication, _AUTH_FAILURES):
        user = target.v3.user if target.v3 else "?"
        return SnmpAuthError(f"{where} refused SNMPv3 user {user!r}: {indication}")
    return SnmpProtocolError(f"{where}: {indication}")
