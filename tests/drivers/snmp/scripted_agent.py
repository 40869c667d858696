"""A tiny in-process SNMP agent on pysnmp's encoder whose misbehaviour a test scripts.

It serves a small sorted MIB over GET / GETNEXT / GETBULK, and each knob makes it
answer the way some real agents do: fewer repetitions than asked, tooBig, an
error-status, an answer from the wrong address, garbage first.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pysnmp.proto import rfc1905

from tests.drivers.snmp import pysnmp_messages as pm


@dataclass
class Behaviour:
    max_rows: int | None = None  # cap on GETBULK repetitions in one answer
    cut_row: bool = False  # also drop the last varbind of a GETBULK answer
    too_big_above: int | None = None  # answer tooBig when asked for more repetitions
    error: tuple[int, int] | None = None  # (error-status, error-index) for every answer
    from_wrong_address_first: bool = False
    garbage_first: bool = False
    silent: bool = False
    rewrite: Callable[[list[tuple[str, Any]]], list[tuple[str, Any]]] | None = None
    corrupt: Callable[[bytes], bytes] | None = None  # applied to the encoded answer


@dataclass
class ScriptedAgent(asyncio.DatagramProtocol):
    mib: dict[str, Any]
    behaviour: Behaviour = field(default_factory=Behaviour)
    requests: list[tuple[str, list[str], int]] = field(default_factory=list)
    transport: asyncio.DatagramTransport | None = None
    other: asyncio.DatagramTransport | None = None  # a second socket: the wrong address

    def __post_init__(self) -> None:
        self.received = asyncio.Event()
        self._keys = sorted(pm.oid_tuple(o) for o in self.mib)

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    async def start(self) -> ScriptedAgent:
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=("127.0.0.1", 0)
        )
        self.other, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
        )
        return self

    def close(self) -> None:
        for transport in (self.transport, self.other):
            if transport is not None:
                transport.close()

    def _next(self, oid: str) -> tuple[str, Any]:
        i = bisect.bisect_right(self._keys, pm.oid_tuple(oid))
        if i == len(self._keys):
            return oid, rfc1905.endOfMibView
        name = ".".join(map(str, self._keys[i]))
        return name, self.mib[name]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        version, community, pdu = pm.parse_request(data)
        p = pm.module(version)
        request_id = int(p.apiPDU.get_request_id(pdu))
        asked = [".".join(map(str, oid)) for oid, _ in p.apiPDU.get_varbinds(pdu)]
        kind = {0: "get", 1: "next", 5: "bulk"}[pdu.tagSet[0][2]]
        reps = int(pm.V2C.apiBulkPDU.get_max_repetitions(pdu)) if kind == "bulk" else 1
        self.requests.append((kind, asked, reps))
        self.received.set()
        b = self.behaviour
        if b.silent:
            return
        status, index = b.error or (0, 0)
        if b.too_big_above is not None and kind == "bulk" and reps > b.too_big_above:
            status, index = 1, 0
        if kind == "get":
            answer = [(o, self.mib.get(o, rfc1905.noSuchObject)) for o in asked]
        else:
            rows = min(reps, b.max_rows or reps)
            answer, cursor = [], list(asked)
            for _ in range(rows):
                for i, oid in enumerate(cursor):
                    name, value = self._next(oid)
                    answer.append((name, value))
                    cursor[i] = name
            if b.cut_row and len(answer) > 1:
                answer = answer[:-1]
        if b.rewrite is not None:
            answer = b.rewrite(answer)
        if version == 0 and not status:  # v1 says noSuchName where v2c has exceptions
            for i, (_, value) in enumerate(answer):
                if isinstance(value, rfc1905.EndOfMibView | rfc1905.NoSuchObject):
                    status, index = 2, i + 1
                    break
        if status:
            answer = [(o, p.Null("")) for o in asked]
        packet = pm.response(version, community, request_id, answer, status, index)
        if b.corrupt is not None:
            packet = b.corrupt(packet)
        assert self.transport is not None and self.other is not None
        if b.garbage_first:
            self.transport.sendto(b"\x30\x03\x02\x01\x00garbage", addr)
            self.transport.sendto(pm.response(version, community, request_id + 1, []), addr)
        if b.from_wrong_address_first:
            self.other.sendto(pm.response(version, community, request_id, []), addr)
        self.transport.sendto(packet, addr)
