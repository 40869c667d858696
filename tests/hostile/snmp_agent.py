"""A hostile SNMP v2c agent: values as large as a datagram allows, tables that never
end, answers dripped just inside the client's timeout. Encoded by pysnmp's own encoder
(the independent side), on a UDP socket of its own.

It goes silent after ``give_up_after`` bytes, so that a client without bounds meets a
timeout instead of taking the machine's memory: a test tells the two apart by what the
client raised and by ``served``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from pysnmp.proto import rfc1902

from tests.drivers.snmp import pysnmp_messages as pm

DATAGRAM = 60_000  # room for the answer's own headers below UDP's 65,507


@dataclass
class HostileSnmpAgent(asyncio.DatagramProtocol):
    value_bytes: int = 50_000  # the size of every OCTET STRING it answers
    delay: float = 0.0  # seconds before each answer (the slow drip)
    give_up_after: int = 256 * 1024 * 1024  # bytes served, then silence
    served: int = 0  # bytes of answers sent
    answers: int = 0
    roots: tuple[str, ...] = ("1.3.6.1.2.1.2.2.1.2",)  # columns that never end (ifDescr)
    active: bool = True  # False: silent, like a device that is off
    transport: asyncio.DatagramTransport | None = None
    _pending: set[asyncio.TimerHandle] = field(default_factory=set)

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    async def start(self, host: str = "127.0.0.1") -> HostileSnmpAgent:
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(host, 0))
        return self

    def close(self) -> None:
        for handle in self._pending:
            handle.cancel()
        if self.transport is not None:
            self.transport.close()

    def _value(self, share: int = 1) -> Any:
        """A value as large as asked, or as a 1/share of a datagram allows."""
        return rfc1902.OctetString(b"x" * min(self.value_bytes, DATAGRAM // share - 64))

    def _successor(self, oid: str) -> str:
        """The next OID of an endless column: root.1, root.2, ...; outside the
        columns, the OID with ".1" added."""
        for root in self.roots:
            if oid == root:
                return root + ".1"
            if oid.startswith(root + "."):
                row = int(oid[len(root) + 1 :].split(".")[0])
                return f"{root}.{row + 1}"
        return oid + ".1"

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if not self.active or self.served >= self.give_up_after:
            return
        version, community, pdu = pm.parse_request(data)
        p = pm.module(version)
        request_id = int(p.apiPDU.get_request_id(pdu))
        asked = [".".join(map(str, oid)) for oid, _ in p.apiPDU.get_varbinds(pdu)]
        kind = pdu.tagSet[0][2]  # 0 get, 1 next, 5 bulk
        if kind == 0:
            answer = [(oid, self._value(len(asked))) for oid in asked]
        else:
            fit = max(1, DATAGRAM // ((self.value_bytes + 64) * len(asked)))
            reps = int(pm.V2C.apiBulkPDU.get_max_repetitions(pdu)) if kind == 5 else 1
            answer, cursor = [], list(asked)
            for _ in range(max(1, min(reps, fit))):
                for i, oid in enumerate(cursor):
                    cursor[i] = self._successor(oid)
                    answer.append((cursor[i], self._value(len(asked))))
        packet = pm.response(version, community, request_id, answer)
        if self.delay:
            loop = asyncio.get_running_loop()
            handle = loop.call_later(self.delay, self._send, packet, addr)
            self._pending.add(handle)
        else:
            self._send(packet, addr)

    def _send(self, packet: bytes, addr: Any) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.served += len(packet)
        self.answers += 1
        self.transport.sendto(packet, addr)
