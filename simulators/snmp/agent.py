"""One pysnmp engine serving every SNMP device of a fleet.

An engine per device would cost ~1.1 MiB and ~100 ms each, so the fleet shares one
engine with one UDP socket (a pysnmp transport) per device. The receiving socket
identifies the device: pysnmp's command responders call ``DeviceRouter``, which looks
up the transport domain of the request and answers from that device's MIB tree.

- A device that does not answer (down, or behind a dead link) drops requests at its
  socket: the client times out, as with real hardware.
- v2c communities and v3 users are engine-wide, so each device also checks that the
  request's security name is one of its own and silently drops the rest, as a real
  agent does with a wrong community.
- Traps leave through the device's own socket, so their source is the device.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pysnmp import error as pysnmp_error
from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import cmdrsp, context
from pysnmp.smi import error as smi_error

from simulators.errors import ServeError
from simulators.fleet import Device
from simulators.fleet_schema import V3User
from simulators.models.base import DeviceModel
from simulators.models.events import Event
from simulators.snmp.mibtree import END_OF_MIB_VIEW, OID, MibTree
from simulators.snmp.system_mib import uptime_ticks
from simulators.snmp.traps import encode_v2c_trap

log = logging.getLogger("simulators.snmp")

Notification = tuple[OID, list[tuple[OID, Any]]]
Notifier = Callable[[Any, Event], list[Notification]]

_REQUEST_CONTEXT = "rfc3412.receiveMessage:request"


class DeviceTransport(udp.UdpAsyncioTransport):  # type: ignore[misc]
    """A device's UDP socket: requests reach the engine only while the device answers."""

    def __init__(self, served: ServedDevice) -> None:
        super().__init__(loop=asyncio.get_running_loop())
        self.served = served

    def datagram_received(self, datagram: bytes, transportAddress: Any) -> None:
        if self.served.model.answering():
            super().datagram_received(datagram, transportAddress)

    def send_trap(self, payload: bytes, receiver: tuple[str, int]) -> None:
        if self.transport is not None:
            self.transport.sendto(payload, receiver)


@dataclass(eq=False)
class ServedDevice:
    device: Device
    model: DeviceModel
    tree: MibTree
    notifier: Notifier
    security_names: frozenset[bytes] = frozenset()
    transport: DeviceTransport | None = field(default=None, repr=False)


class _DropRequest(pysnmp_error.PySnmpError):  # type: ignore[misc]
    """Raised inside pysnmp's responder: a PySnmpError that is not an SmiError is
    dropped without a response (cmdrsp.process_pdu)."""


class DeviceRouter:
    """The MIB instrumentation given to pysnmp: answers from the addressed device."""

    def __init__(self) -> None:
        self.by_domain: dict[tuple[int, ...], ServedDevice] = {}

    def _device(self, context: dict[str, Any]) -> ServedDevice:
        request = context["snmpEngine"].observer.get_execution_context(_REQUEST_CONTEXT)
        served = self.by_domain[request["transportDomain"]]
        if bytes(request["securityName"]) not in served.security_names:
            raise _DropRequest("not this device's community or user")
        served.model.refresh()
        return served

    def read_variables(self, *var_binds: Any, **context: Any) -> list[tuple[Any, Any]]:
        served = self._device(context)
        return [(name, served.tree.get(served.model, tuple(name))) for name, _ in var_binds]

    def read_next_variables(self, *var_binds: Any, **context: Any) -> list[tuple[Any, Any]]:
        served = self._device(context)
        out = []
        for name, _ in var_binds:
            found = served.tree.next(served.model, tuple(name))
            if found is None:
                out.append((name, END_OF_MIB_VIEW))
            else:
                out.append((served.tree.name(found[0]), found[1]))
        return out

    def write_variables(self, *var_binds: Any, **context: Any) -> list[tuple[Any, Any]]:
        self._device(context)
        name = var_binds[0][0] if var_binds else None
        raise smi_error.NotWritableError(name=name, idx=0)


class SnmpAgent:
    """Serves a set of SNMP devices until ``stop()``."""

    def __init__(self, served: list[ServedDevice]) -> None:
        self.served = served
        self._engine: Any = None
        self._router = DeviceRouter()
        self._by_model = {served.model.id: served for served in served}

    async def start(self) -> None:
        if not self.served:
            return
        self._engine = engine.SnmpEngine()
        communities: dict[str, bytes] = {}
        users: dict[str, V3User] = {}
        try:
            for number, served in enumerate(self.served, start=1):
                snmp = served.device.snmp
                assert snmp is not None
                names = {communities.setdefault(snmp.community, f"c{len(communities)}".encode())}
                if snmp.v3 is not None:
                    users[snmp.v3.user] = snmp.v3
                    names.add(snmp.v3.user.encode())
                served.security_names = frozenset(names)
                await self._open(served, (*udp.DOMAIN_NAME, number))
        except BaseException:
            await self.stop()
            raise
        for community, security_name in communities.items():
            config.add_v1_system(
                self._engine, security_name.decode(), community, securityName=security_name
            )
        for user in users.values():
            config.add_v3_user(
                self._engine,
                user.user,
                config.USM_AUTH_HMAC96_SHA,
                user.auth_key,
                config.USM_PRIV_CFB128_AES,
                user.priv_key,
            )
        snmp_context = context.SnmpContext(self._engine)
        snmp_context.unregister_context_name(b"")
        snmp_context.register_context_name(b"", self._router)
        for responder in (
            cmdrsp.GetCommandResponder,
            cmdrsp.NextCommandResponder,
            cmdrsp.BulkCommandResponder,
            cmdrsp.SetCommandResponder,
        ):
            responder(self._engine, snmp_context)
        for served in self.served:
            served.model.listeners.append(self._on_event)

    async def _open(self, served: ServedDevice, domain: tuple[int, ...]) -> None:
        device = served.device
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((device.address, device.port))
        except OSError as exc:
            sock.close()
            raise ServeError(
                f"{device.id}: cannot serve SNMP on udp {device.address}:{device.port}: "
                f"{exc.strerror}"
            ) from exc
        sock.setblocking(False)
        transport = DeviceTransport(served)
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: transport, sock=sock)
        served.transport = transport
        config.add_transport(self._engine, domain, transport)
        self._router.by_domain[domain] = served

    def _on_event(self, model: DeviceModel, event: Event) -> None:
        served = self._by_model.get(model.id)
        if served is None or served.transport is None or not model.answering():
            return  # a device that is off, or cut off, sends nothing
        snmp = served.device.snmp
        assert snmp is not None
        community = snmp.trap_community or snmp.community
        receivers = served.device.trap_receivers
        if not receivers:
            return
        for trap_oid, varbinds in served.notifier(model, event):
            payload = encode_v2c_trap(community, uptime_ticks(model), trap_oid, varbinds)
            for receiver in receivers:
                served.transport.send_trap(payload, receiver)
            log.info("%s: trap %s", model.id, ".".join(map(str, trap_oid)))

    async def stop(self) -> None:
        for served in self.served:
            if self._on_event in served.model.listeners:
                served.model.listeners.remove(self._on_event)
        if self._engine is None:
            return
        dispatcher = self._engine.transport_dispatcher
        self._engine = None
        if dispatcher is None:
            for served in self.served:
                if served.transport is not None and served.transport.transport is not None:
                    served.transport.transport.close()
            return
        ticker = dispatcher.loopingcall
        dispatcher.close_dispatcher()
        if ticker is not None:
            await asyncio.gather(ticker, return_exceptions=True)
