"""A running fleet: the device models wired to their parents and served over SNMP,
Modbus and HTTP, the DC-09 panels reporting to their receivers, with faults injected
and cleared by id."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from simulators import topology
from simulators.ami.server import AmiServers, ami_servers
from simulators.dc09.transmitter import Transmitters
from simulators.errors import UnknownDeviceError
from simulators.fleet import Fleet
from simulators.http.apps import http_apps
from simulators.http.server import HttpApiServers
from simulators.modbus.server import PanelServers
from simulators.models import build_model
from simulators.models.base import Clock, DeviceModel
from simulators.models.events import Booted
from simulators.models.switch import SwitchModel
from simulators.snmp.agent import ServedDevice, SnmpAgent
from simulators.snmp.kinds import notifier_for, tree_for

log = logging.getLogger("simulators")


class FleetRuntime:
    def __init__(self, fleet: Fleet, clock: Clock = time.monotonic) -> None:
        self.fleet = fleet
        self.models: dict[str, DeviceModel] = {
            device.id: build_model(device, clock) for device in fleet.devices
        }
        self._wire_topology()
        snmp_devices = [
            ServedDevice(device, model, tree_for(model), notifier_for(device.kind))
            for device in fleet.devices
            if device.snmp is not None
            for model in (self.models[device.id],)
        ]
        self.snmp = SnmpAgent(snmp_devices)
        self.modbus = PanelServers(list(self.models.values()))
        self.http = HttpApiServers(http_apps(fleet.devices, self.models, fleet.site.timezone))
        self.ami: AmiServers = ami_servers(fleet, self.models)
        self.dc09 = Transmitters(list(self.models.values()))

    def _wire_topology(self) -> None:
        """Each device reaches the network through its parent switch's port."""
        for model in self.models.values():
            device = model.device
            if device.parent is None:
                continue
            parent = self.models[device.parent]
            assert isinstance(parent, SwitchModel)
            model.uplink = (parent, device.parent_port)
            if device.parent_port is not None:
                parent.port(device.parent_port).alias = device.id
                if isinstance(model, SwitchModel):
                    parent.switch_ports.add(device.parent_port)
        for switch_id, view in topology.views(self.fleet.devices).items():
            switch = self.models[switch_id]
            assert isinstance(switch, SwitchModel)
            switch.view = view

    async def start(self) -> None:
        await self.snmp.start()
        try:
            await self.modbus.start()
            await self.http.start()
            await self.ami.start()
        except BaseException:
            await self.http.stop()
            await self.modbus.stop()
            await self.snmp.stop()
            raise
        for model in self.models.values():
            model.emit(Booted())  # coldStart from every SNMP device
        await self.dc09.start()

    async def stop(self) -> None:
        try:
            await self.ami.stop()
            await self.dc09.stop()
            await self.http.stop()
            await self.modbus.stop()
        finally:
            await self.snmp.stop()

    def model(self, device_id: str) -> DeviceModel:
        try:
            return self.models[device_id]
        except KeyError:
            raise UnknownDeviceError(f"no device {device_id!r} in the fleet") from None

    def states(self) -> list[dict[str, Any]]:
        out = []
        for model in self.models.values():
            model.refresh()
            out.append(model.state())
        return out

    def inject(
        self, device_id: str, fault: str, params: Mapping[str, object] | None = None
    ) -> dict[str, Any]:
        model = self.model(device_id)
        active = model.inject(fault, params)
        log.info("%s: injected %s", device_id, active)
        return {"device": model.state(), "injected": active.as_json()}

    def clear(
        self, device_id: str, fault: str | None = None, params: Mapping[str, object] | None = None
    ) -> dict[str, Any]:
        model = self.model(device_id)
        cleared = model.clear(fault, params)
        log.info("%s: cleared %s", device_id, ", ".join(map(str, cleared)) or "nothing")
        return {"device": model.state(), "cleared": [fault.as_json() for fault in cleared]}

    def catalogue(self) -> dict[str, Any]:
        """The faults each kind supports, with their parameters (a variant of a kind
        with faults of its own, a DC-09 panel, under its own name: ``kind/variant``)."""
        out: dict[str, Any] = {}
        for model in self.models.values():
            if model.fault_set() in out:
                continue
            out[model.fault_set()] = {
                spec.name: {
                    "help": spec.help,
                    "params": {p.name: p.help for p in spec.params},
                }
                for spec in model.fault_specs().values()
            }
        return out
