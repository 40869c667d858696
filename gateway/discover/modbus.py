"""Ask an address whether it serves Modbus TCP (``--modbus``): one read of holding
register 0 of a unit. A Modbus server says nothing of what it is, so what answers is
listed in the draft for the installer, never made a device."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.modbus import (
    ModbusConnectionError,
    ModbusExceptionResponse,
    ModbusProtocolError,
    ModbusTimeout,
)
from drivers.modbus.bus import ModbusBus
from drivers.modbus.points import Table
from drivers.snmp.pacing import Pacer


@dataclass(frozen=True, slots=True)
class ModbusAsking:
    port: int = 502
    unit: int = 1
    timeout: float = 1.0


@dataclass(frozen=True, slots=True)
class ModbusAnswer:
    address: str
    port: int
    what: str  # what came back, in words


async def modbus_answer(address: str, asking: ModbusAsking, pacer: Pacer) -> ModbusAnswer | None:
    """What the address answered over Modbus TCP; None when nothing accepts the
    connection."""
    bus = ModbusBus.tcp(address, asking.port, timeout=asking.timeout)
    await pacer.wait()
    try:
        words = await bus.read_block(asking.unit, Table.HOLDING, 0, 1)
    except ModbusConnectionError:
        return None
    except ModbusExceptionResponse as exc:
        what = f"a Modbus server: unit {asking.unit} answered exception {exc.code} to a read"
    except ModbusTimeout:
        what = f"accepts TCP on port {asking.port} but unit {asking.unit} did not answer"
    except ModbusProtocolError as exc:
        what = f"accepts TCP on port {asking.port} but answered something else: {exc}"
    else:
        what = f"a Modbus server: unit {asking.unit} holding register 0 = {words[0]}"
    finally:
        await bus.close()
    return ModbusAnswer(address, asking.port, what)
