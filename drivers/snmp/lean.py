"""The lean SNMP v1/v2c client: our own codec over one shared UDP socket.

This is the polling hot path, so the work per request is kept small: the version
and community prefix of each target and the encoded varbind list of each GET are
built once and reused, OIDs stay BER bytes until the result is handed out, and the
dotted strings of OIDs come from caches.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass

from drivers.snmp import ber
from drivers.snmp.base import (
    NO_SUCH,
    SnmpError,
    SnmpProtocolError,
    SnmpTarget,
    SnmpValue,
    VarBind,
)
from drivers.snmp.errors import accept_get_answer
from drivers.snmp.pacing import Pacer
from drivers.snmp.udp import UdpMux, UdpStats
from drivers.snmp.walkstate import MultiColumnWalk

_VERSIONS = {"1": ber.VERSION_1, "2c": ber.VERSION_2C}
_RESOLVE_TTL = 300.0
_CACHE_LIMIT = 65536


@dataclass(slots=True, frozen=True)
class _Agent:
    """What the codec needs of a target, computed once."""

    family: int
    host: str
    port: int
    prefix: bytes
    version: int
    timeout: float
    retries: int
    expires: float  # monotonic time after which a host name is resolved again


@dataclass(slots=True, frozen=True)
class _GetTemplate:
    varbind_list: bytes
    oids: tuple[bytes, ...]


class LeanSnmpClient:
    """SNMP v1/v2c GET and table walks with our own codec (implements SnmpClient).

    Create one per process and share it: all targets go through one UDP socket per
    address family. ``max_in_flight`` caps the requests awaiting an answer at once,
    ``pacer`` (optional) the requests sent per second, retries included;
    each target's walk budgets bound one walk against an agent that never ends a table.
    """

    def __init__(self, max_in_flight: int = 256, pacer: Pacer | None = None) -> None:
        self._mux = UdpMux(max_in_flight=max_in_flight, pacer=pacer)
        self._agents: dict[SnmpTarget, _Agent] = {}
        self._templates: dict[tuple[str, ...], _GetTemplate] = {}
        self._table_rows: dict[tuple[str, int, tuple[str, ...]], int] = {}

    @property
    def stats(self) -> UdpStats:
        return self._mux.stats

    async def get(self, target: SnmpTarget, oids: Sequence[str]) -> list[VarBind]:
        if not oids:
            return []
        agent = await self._agent(target)
        template = self._template(oids)
        names = list(oids)
        values: list[SnmpValue] = [NO_SUCH] * len(names)
        remaining = list(range(len(names)))  # shrinks only when v1 says noSuchName
        varbind_list = template.varbind_list
        while True:
            response = await self._exchange(agent, ber.GET_REQUEST, varbind_list)
            varbinds = response.varbinds
            v1 = agent.version == ber.VERSION_1
            if not accept_get_answer(
                response.error_status, response.error_index, len(varbinds), remaining, names, v1
            ):
                if not remaining:
                    break
                varbind_list = ber.encode_varbind_list([template.oids[i] for i in remaining])
                continue
            for i, (oid, value) in zip(remaining, varbinds, strict=True):
                if oid != template.oids[i]:
                    names[i] = ber.decode_oid(oid)
                values[i] = value
            break
        return list(zip(names, values, strict=True))

    async def walk(
        self, target: SnmpTarget, roots: Sequence[str], max_repetitions: int = 25
    ) -> list[VarBind]:
        if not roots:
            return []
        agent = await self._agent(target)
        state = MultiColumnWalk(
            [_oid_bytes(r) for r in roots], target.max_walk_varbinds, target.max_walk_bytes
        )
        bulk = agent.version != ber.VERSION_1
        pdu_type = ber.GET_BULK_REQUEST if bulk else ber.GET_NEXT_REQUEST
        repetitions = max(1, max_repetitions) if bulk else 0
        # Tables rarely change size between polls: ask for one row more than last
        # time, so the usual walk is one GETBULK whose answer is nearly all used.
        size_key = (agent.host, agent.port, tuple(roots))
        known_rows = self._table_rows.get(size_key)
        if bulk and known_rows is not None:
            repetitions = min(repetitions, known_rows + 1)
        while not state.done:
            request_oids = state.request_oids()
            response = await self._exchange(
                agent, pdu_type, ber.encode_varbind_list(request_oids), repetitions
            )
            repetitions = state.take_answer(
                response.error_status,
                response.error_index,
                response.varbinds,
                bulk,
                repetitions,
            )
        if len(self._table_rows) >= _CACHE_LIMIT:
            self._table_rows.clear()
        self._table_rows[size_key] = state.longest_column()
        decode = ber.decode_oid
        return [(decode(oid), value) for oid, value in state.results()]

    async def close(self) -> None:
        self._mux.close()

    async def _exchange(
        self, agent: _Agent, pdu_type: int, varbind_list: bytes, max_repetitions: int = 0
    ) -> ber.Response:
        mux = self._mux
        request_id = mux.new_request_id()
        packet = ber.encode_request(
            agent.prefix, pdu_type, request_id, varbind_list, 0, max_repetitions
        )
        response = await mux.exchange(
            agent.family, agent.host, agent.port, request_id, packet, agent.timeout, agent.retries
        )
        if response.pdu_type == ber.REPORT:
            reported = ", ".join(ber.decode_oid(oid) for oid, _ in response.varbinds)
            raise SnmpProtocolError(f"agent sent a report instead of a response: {reported}")
        return response

    async def _agent(self, target: SnmpTarget) -> _Agent:
        agent = self._agents.get(target)
        if agent is not None and agent.expires > time.monotonic():
            return agent
        version = _VERSIONS.get(target.version)
        if version is None:
            raise SnmpError(f"the lean client speaks v1 and v2c, not v{target.version}")
        family, host, expires = await _resolve(target.host, target.port)
        agent = _Agent(
            family=family,
            host=host,
            port=target.port,
            prefix=ber.encode_message_prefix(version, target.community.encode()),
            version=version,
            timeout=target.timeout,
            retries=max(0, target.retries),
            expires=expires,
        )
        if len(self._agents) >= _CACHE_LIMIT:
            self._agents.clear()
        self._agents[target] = agent
        return agent

    def _template(self, oids: Sequence[str]) -> _GetTemplate:
        key = tuple(oids)
        template = self._templates.get(key)
        if template is None:
            encoded = tuple(_oid_bytes(oid) for oid in key)
            template = _GetTemplate(ber.encode_varbind_list(encoded), encoded)
            if len(self._templates) >= _CACHE_LIMIT:
                self._templates.clear()
            self._templates[key] = template
        return template


def _oid_bytes(oid: str) -> bytes:
    try:
        return ber.encode_oid(oid)
    except ValueError as exc:
        raise SnmpError(str(exc)) from exc


async def _resolve(host: str, port: int) -> tuple[int, str, float]:
    """(address family, numeric address, expiry) of a host name or address literal."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        return family, address.compressed, float("inf")
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except OSError as exc:
        raise SnmpError(f"cannot resolve {host}: {exc}") from exc
    family, _, _, _, sockaddr = infos[0]
    return family, str(sockaddr[0]), time.monotonic() + _RESOLVE_TTL
