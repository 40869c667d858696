"""Probe one address over SNMP: who it is (SNMPv2-MIB system group), which of the
profiles' ``answers`` OIDs it answers, and what it knows of its neighbours (LLDP-MIB,
BRIDGE-MIB's forwarding table, IP-MIB's ARP cache)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from drivers.snmp import (
    NO_SUCH,
    SnmpClient,
    SnmpError,
    SnmpTarget,
    SnmpTimeout,
    V3Credentials,
    VarBind,
)
from drivers.snmp.pacing import Pacer
from gateway.discover.ami import AmiVersion
from gateway.discover.classify import Identity
from gateway.discover.isapi import IsapiInfo

SYS_DESCR, SYS_OBJECT_ID, SYS_NAME = "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.5.0"
# LLDP-MIB (IEEE 802.1AB-2005): lldpLocChassisId; lldpRemTable columns chassis id (5),
# port id (7), sysName (9); lldpRemManAddrTable's lldpRemManAddrIfSubtype (3), whose
# index carries the management address.
LLDP_LOC_CHASSIS = "1.0.8802.1.1.2.1.3.2.0"
LLDP_REM = "1.0.8802.1.1.2.1.4.1.1"
LLDP_REM_CHASSIS, LLDP_REM_PORT, LLDP_REM_NAME = (f"{LLDP_REM}.{c}" for c in (5, 7, 9))
LLDP_MAN_ADDR = "1.0.8802.1.1.2.1.4.2.1.3"
# BRIDGE-MIB (RFC 4188): dot1dBaseBridgeAddress, dot1dBasePortIfIndex, dot1dTpFdbPort.
BRIDGE_ADDRESS = "1.3.6.1.2.1.17.1.1.0"
BASE_PORT_IF_INDEX = "1.3.6.1.2.1.17.1.4.1.2"
FDB_PORT = "1.3.6.1.2.1.17.4.3.1.2"
# IP-MIB ipNetToMediaPhysAddress (index ifIndex . IPv4 address).
ARP_MAC = "1.3.6.1.2.1.4.22.1.2"
IPV4 = 1  # IANA AddressFamilyNumbers, lldpRemManAddrSubtype

WALK_VARBINDS = 20_000  # what one walk of a device may bring back
WALK_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Credential:
    """One way to ask: a v2c community or a v3 user. ``label`` never holds a secret."""

    label: str
    version: Literal["2c", "3"]
    community: str = field(default="", repr=False)
    v3: V3Credentials | None = None
    site_section: dict[str, Any] = field(default_factory=dict, repr=False)  # for the draft

    def target(self, host: str, port: int, timeout: float, retries: int) -> SnmpTarget:
        return SnmpTarget(
            host, port, self.version, self.community, self.v3, timeout, retries,
            max_walk_bytes=WALK_BYTES, max_walk_varbinds=WALK_VARBINDS,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class LldpNeighbour:
    local_port: int
    chassis: bytes
    port_id: bytes
    name: str
    addresses: tuple[str, ...]


@dataclass(slots=True)
class Neighbours:
    """What a device knows of the devices around it."""

    own_ids: set[bytes] = field(default_factory=set)  # its chassis id, bridge address
    lldp: list[LldpNeighbour] = field(default_factory=list)
    fdb: dict[bytes, int] = field(default_factory=dict)  # MAC -> ifIndex it is learned on
    arp: dict[str, bytes] = field(default_factory=dict)  # IPv4 address -> MAC
    problems: list[str] = field(default_factory=list)  # tables that could not be read


@dataclass(frozen=True, slots=True)
class Found:
    address: str
    port: int
    credential: Credential | None  # None: found over ISAPI only
    identity: Identity
    neighbours: Neighbours
    isapi: IsapiInfo | None = None  # what /ISAPI/System/deviceInfo said, if asked
    ami: AmiVersion | None = None  # the AMI banner's version, if asked and logged in


@dataclass(frozen=True, slots=True)
class Failed:
    """An address that did not give a usable SNMP answer."""

    address: str
    port: int
    reason: str
    silent: bool  # nothing came back at all (timeouts), as opposed to a bad answer


class PacedClient:
    """Paces calls that do not go through the lean client's socket (v3 through
    pysnmp): a call waits for a slot, a walk is charged one more per answer it took
    (implements SnmpClient)."""

    def __init__(self, inner: SnmpClient, pacer: Pacer) -> None:
        self.inner = inner
        self.pacer = pacer

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> list[VarBind]:
        if target.version == "3":
            await self.pacer.wait()
        return await self.inner.get(target, oids)

    async def walk(
        self, target: SnmpTarget, roots: Sequence[str], max_repetitions: int = 25
    ) -> list[VarBind]:
        if target.version != "3":
            return await self.inner.walk(target, roots, max_repetitions)
        await self.pacer.wait()
        found = await self.inner.walk(target, roots, max_repetitions)
        for _ in range(math.ceil(len(found) / max(1, len(roots) * max_repetitions))):
            self.pacer.charge()
        return found

    async def close(self) -> None:
        await self.inner.close()


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return "" if value is NO_SUCH else str(value)


@dataclass(frozen=True, slots=True)
class Asking:
    """How every address is asked: the credentials in order, the OIDs the profiles'
    rules look for, and each request's timeout and retries."""

    credentials: tuple[Credential, ...]
    answers: tuple[str, ...]
    timeout: float = 1.0
    retries: int = 1


async def probe(client: SnmpClient, address: str, port: int, asking: Asking) -> Found | Failed:
    """Ask ``address`` with each credential in turn; the first that answers is used."""
    errors: list[str] = []
    for credential in asking.credentials:
        target = credential.target(address, port, asking.timeout, asking.retries)
        try:
            system = dict(await client.get(target, [SYS_DESCR, SYS_OBJECT_ID, SYS_NAME]))
        except SnmpTimeout as exc:
            if exc.noise:
                errors.append(f"{credential.label}: answered with something that is not SNMP")
            continue  # nothing there, or not this community (agents stay silent)
        except SnmpError as exc:
            errors.append(f"{credential.label}: {exc}")
            continue
        object_id = system.get(SYS_OBJECT_ID)
        if not isinstance(object_id, str):
            errors.append(f"{credential.label}: the answer has no sysObjectID")
            continue
        identity = Identity(
            object_id=object_id,
            descr=_text(system.get(SYS_DESCR)),
            name=_text(system.get(SYS_NAME)),
            answered=await _answered(client, target, asking.answers),
        )
        return Found(address, port, credential, identity, await neighbours(client, target))
    if errors:
        return Failed(address, port, "; ".join(errors), silent=False)
    return Failed(address, port, "no SNMP answer", silent=True)


async def _answered(client: SnmpClient, target: SnmpTarget, oids: Sequence[str]) -> frozenset[str]:
    if not oids:
        return frozenset()
    try:
        values = await client.get(target, oids)
    except SnmpError:
        return frozenset()
    return frozenset(oid for oid, value in values if value is not NO_SUCH)


async def neighbours(client: SnmpClient, target: SnmpTarget) -> Neighbours:
    """LLDP neighbours, forwarding table and ARP cache; a table the device does not
    have is empty, one that fails is noted and empty."""
    out = Neighbours()

    async def walk(name: str, roots: list[str]) -> list[VarBind]:
        try:
            return await client.walk(target, roots)
        except SnmpError as exc:
            out.problems.append(f"{name}: {exc}")
            return []

    try:
        ids = await client.get(target, [LLDP_LOC_CHASSIS, BRIDGE_ADDRESS])
    except SnmpError as exc:
        out.problems.append(f"chassis id: {exc}")
        ids = []
    out.own_ids = {v for _, v in ids if isinstance(v, bytes) and v}
    rows: dict[tuple[int, ...], dict[str, object]] = {}
    for oid, value in await walk(
        "LLDP-MIB lldpRemTable", [LLDP_REM_CHASSIS, LLDP_REM_PORT, LLDP_REM_NAME]
    ):
        column, index = _split(oid, LLDP_REM)
        if len(index) == 3:
            rows.setdefault(index, {})[column] = value
    addresses: dict[tuple[int, ...], list[str]] = {}
    for oid, _ in await walk("LLDP-MIB lldpRemManAddrTable", [LLDP_MAN_ADDR]):
        index = _index(oid, LLDP_MAN_ADDR)
        if len(index) == 9 and index[3] == IPV4 and index[4] == 4:
            addresses.setdefault(index[:3], []).append(".".join(map(str, index[5:])))
    for index, row in sorted(rows.items()):
        chassis, port_id = row.get("5"), row.get("7")
        out.lldp.append(
            LldpNeighbour(
                local_port=index[1],
                chassis=chassis if isinstance(chassis, bytes) else b"",
                port_id=port_id if isinstance(port_id, bytes) else b"",
                name=_text(row.get("9")),
                addresses=tuple(addresses.get(index, ())),
            )
        )
    if_index = {
        _index(oid, BASE_PORT_IF_INDEX)[0]: value
        for oid, value in await walk("BRIDGE-MIB dot1dBasePortTable", [BASE_PORT_IF_INDEX])
        if isinstance(value, int) and len(_index(oid, BASE_PORT_IF_INDEX)) == 1
    }
    for oid, value in await walk("BRIDGE-MIB dot1dTpFdbTable", [FDB_PORT]):
        mac = _index(oid, FDB_PORT)
        if len(mac) == 6 and isinstance(value, int) and value > 0 and max(mac) < 256:
            out.fdb[bytes(mac)] = if_index.get(value, value)
    for oid, value in await walk("IP-MIB ipNetToMediaTable", [ARP_MAC]):
        index = _index(oid, ARP_MAC)
        if len(index) == 5 and isinstance(value, bytes) and len(value) == 6:
            out.arp[".".join(map(str, index[1:]))] = value
    return out


def _index(oid: str, column: str) -> tuple[int, ...]:
    rest = oid[len(column) + 1 :] if oid.startswith(column + ".") else ""
    return tuple(int(part) for part in rest.split(".")) if rest else ()


def _split(oid: str, entry: str) -> tuple[str, tuple[int, ...]]:
    rest = oid[len(entry) + 1 :].split(".")
    return rest[0], tuple(int(part) for part in rest[1:])
