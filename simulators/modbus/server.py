"""Alarm panels served over Modbus TCP (or RTU on a serial line) with pymodbus 3.16's
simulator datastore (``SimDevice`` / ``SimData``).

Each panel is one pymodbus server on its own address and port. Its registers are
rewritten from the panel model by the datastore's ``action`` hook on every access,
so every read sees the live state.

A panel that does not answer (down, flat battery, cut off behind a dead switch port)
must send nothing at all, not an exception response: the server's ``trace_pdu`` hook
sees every request as it is decoded, and returning no PDU makes pymodbus skip it (the
client times out, as with real hardware). A request for another unit id gets the same
silence, as on an RS-485 line where that unit does not exist.
"""

from __future__ import annotations

import logging
import termios
from collections.abc import Callable
from functools import partial
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from simulators.errors import ServeError
from simulators.modbus.panel_map import register_count, registers
from simulators.models.base import DeviceModel
from simulators.models.panel import AlarmPanelModel

log = logging.getLogger("simulators.modbus")


async def _refresh_registers(
    panel: AlarmPanelModel,
    function_code: int,
    start_address: int,
    address: int,
    count: int,
    current_registers: list[int],
    set_values: list[int] | list[bool] | None,
) -> ExcCodes | None:
    if set_values is not None:
        return ExcCodes.ILLEGAL_ADDRESS  # the map is read-only
    current_registers[: register_count(len(panel.zones))] = registers(panel)
    return None


def panel_device(panel: AlarmPanelModel, unit: int) -> SimDevice:
    count = register_count(len(panel.zones))
    block = SimData(0, count=count, values=0, datatype=DataType.REGISTERS)
    return SimDevice(id=unit, simdata=[block], action=partial(_refresh_registers, panel))


def request_gate(panel: AlarmPanelModel, unit: int) -> Callable[[bool, Any], Any]:
    """pymodbus ``trace_pdu``: let a request through only if this panel answers it."""

    def gate(sending: bool, pdu: Any) -> Any:
        if sending or (pdu.dev_id == unit and panel.answering()):
            return pdu
        return None  # dropped: no response of any kind

    return gate


class PanelServers:
    """One Modbus server per alarm panel."""

    def __init__(self, models: list[DeviceModel]) -> None:
        self.models = [
            m for m in models if isinstance(m, AlarmPanelModel) and m.device.modbus is not None
        ]
        self._servers: list[Any] = []

    async def start(self) -> None:
        try:
            for panel in self.models:
                self._servers.append(await self._serve(panel))
        except BaseException:
            await self.stop()
            raise

    async def _serve(self, panel: AlarmPanelModel) -> Any:
        device = panel.device
        modbus = device.modbus
        assert modbus is not None
        context = panel_device(panel, modbus.unit)
        gate = request_gate(panel, modbus.unit)
        serial = modbus.serial
        server: Any
        if serial is None:
            assert device.port is not None
            where = f"tcp {device.address}:{device.port}"
            server = ModbusTcpServer(context, address=(device.address, device.port), trace_pdu=gate)
        else:
            where = f"serial line {serial.port}"
            server = ModbusSerialServer(
                context,
                framer=FramerType.RTU,
                port=serial.port,
                baudrate=serial.baudrate,
                parity=serial.parity,
                stopbits=serial.stopbits,
                bytesize=serial.bytesize,
                trace_pdu=gate,
            )
        try:
            await server.serve_forever(background=True)
        except (RuntimeError, OSError, termios.error) as exc:
            # pymodbus: "Could not start listen"; pyserial: no such port, or settings the
            # line refuses (a pseudo-terminal has no parity).
            raise ServeError(f"{device.id}: cannot serve Modbus on {where}: {exc}") from exc
        return server

    async def stop(self) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            await server.shutdown()
