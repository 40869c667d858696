"""The Modbus driver of an agent: one bus per TCP endpoint or serial line."""

from __future__ import annotations

from drivers.modbus.bus import ModbusBus
from gateway.config.limits import DEFAULT_LIMITS
from gateway.config.load import LoadedConfig
from gateway.config.profile import Profile
from gateway.config.protocols.modbus import modbus_settings
from gateway.config.site import Device
from gateway.protocols.modbus.reader import ModbusPointReader


class ModbusBuses:
    """One bus per Modbus TCP endpoint or serial line, shared by every unit behind it."""

    def __init__(self, config: LoadedConfig | None = None) -> None:
        self._buses: dict[str, ModbusBus] = {}
        self.limits = config.site_file.limits if config is not None else DEFAULT_LIMITS

    def reader(self, device: Device, profile: Profile) -> ModbusPointReader:
        return ModbusPointReader(device, profile, self.for_device(device), self.limits)

    def for_device(self, device: Device) -> ModbusBus:
        settings = modbus_settings(device)
        if settings is not None and settings.transport == "rtu":
            assert settings.serial_port is not None, "checked at load"
            key = f"rtu:{settings.serial_port}"
            if key not in self._buses:
                self._buses[key] = ModbusBus.rtu(
                    settings.serial_port,
                    baudrate=settings.baudrate,
                    parity=settings.parity,
                    stopbits=settings.stopbits,
                    timeout=settings.timeout,
                )
            return self._buses[key]
        key = f"tcp:{device.address}:{device.port or 502}"
        if key not in self._buses:
            timeout = settings.timeout if settings else 1.0
            self._buses[key] = ModbusBus.tcp(device.address, device.port or 502, timeout=timeout)
        return self._buses[key]

    async def close(self) -> None:
        for bus in self._buses.values():
            await bus.close()
        self._buses.clear()
