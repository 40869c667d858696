"""A managed Ethernet switch: ports with traffic, sensors (temperature, fans, power
supplies) and PoE.

Every port starts up with steady traffic (a per-port rate drawn from the device id,
so a fleet looks the same on every run). Counters grow only while the port is up.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from simulators.models.base import Clock, DeviceModel, FaultSpec, Param, Ramp
from simulators.models.events import LinkChanged
from simulators.topology import SwitchView

AVERAGE_FRAME = 700  # bytes: turns octet rates into packet rates
POE_WATTS = 6.5  # drawn by each powered device (a camera, a phone)
POE_BUDGET_WATTS = 370


@dataclass(slots=True)
class Port:
    index: int
    rate_in: float  # bytes/s while up
    rate_out: float
    now: float
    alias: str = ""
    admin_up: bool = True
    link_up: bool = True
    last_change: float = 0.0
    poe_capable: bool = False
    poe_enabled: bool = True
    poe_fault: bool = False
    error_rate: float = 0.0
    in_octets: Ramp = field(init=False)
    out_octets: Ramp = field(init=False)
    in_errors: Ramp = field(init=False)
    out_errors: Ramp = field(init=False)

    def __post_init__(self) -> None:
        self.last_change = self.now
        self.reset(self.now)

    @property
    def oper_up(self) -> bool:
        return self.admin_up and self.link_up

    def reset(self, now: float) -> None:
        up = self.oper_up
        self.in_octets = Ramp(0.0, now, self.rate_in if up else 0.0)
        self.out_octets = Ramp(0.0, now, self.rate_out if up else 0.0)
        self.in_errors = Ramp(0.0, now, self.error_rate if up else 0.0)
        self.out_errors = Ramp(0.0, now, 0.0)

    def retime(self, now: float) -> None:
        """Rates follow the oper status (a down port moves no traffic)."""
        up = self.oper_up
        self.in_octets.set(now, rate=self.rate_in if up else 0.0)
        self.out_octets.set(now, rate=self.rate_out if up else 0.0)
        self.in_errors.set(now, rate=self.error_rate if up else 0.0)

    def poe_status(self) -> int:
        """pethPsePortDetectionStatus: disabled 1, searching 2, delivering 3, fault 4."""
        if not self.poe_enabled or not self.admin_up:
            return 1
        if self.poe_fault:
            return 4
        return 3 if self.link_up else 2


@dataclass(slots=True)
class Sensor:
    """A row of entPhySensorTable with its entPhysicalTable identity."""

    index: int  # entPhysicalIndex
    name: str
    klass: int  # entPhysicalClass: powerSupply 6, fan 7, sensor 8
    type: int  # entPhySensorType: celsius 8, rpm 10, truthvalue 12
    nominal: float
    value: float = 0.0
    ok: bool = True
    units: str = ""

    def __post_init__(self) -> None:
        self.value = self.nominal


class SwitchModel(DeviceModel):
    kind = "switch"

    def _port_count(self) -> int:
        return int(self.device.spec.ports)

    FAULTS = {
        "port_down": FaultSpec(
            "port_down",
            "link lost on a port (cable cut, peer off): linkDown trap",
            (Param("port", int, "port number", maximum=lambda m: m._port_count()),),
        ),
        "port_admin_down": FaultSpec(
            "port_admin_down",
            "port disabled by configuration: ifAdminStatus down, linkDown trap",
            (Param("port", int, "port number", maximum=lambda m: m._port_count()),),
        ),
        "port_errors": FaultSpec(
            "port_errors",
            "a bad cable: ifInErrors grows",
            (
                Param("port", int, "port number", maximum=lambda m: m._port_count()),
                Param("rate", float, "errors per second", default=20.0, minimum=0),
            ),
        ),
        "poe_fault": FaultSpec(
            "poe_fault",
            "PoE fault on a port: pethPsePortDetectionStatus fault(4)",
            (Param("port", int, "port number", maximum=lambda m: m._port_count()),),
        ),
        "fan_failed": FaultSpec(
            "fan_failed",
            "a fan stops: 0 rpm, sensor nonoperational",
            (Param("fan", int, "fan number", default=1, maximum=lambda m: len(m.fans)),),
        ),
        "psu_failed": FaultSpec(
            "psu_failed",
            "a power supply fails: truthvalue false(2), sensor nonoperational",
            (Param("psu", int, "power supply number", default=1, maximum=lambda m: len(m.psus)),),
        ),
        "overheat": FaultSpec(
            "overheat",
            "a temperature sensor reads hot",
            (
                Param(
                    "sensor",
                    int,
                    "temperature sensor number",
                    default=1,
                    maximum=lambda m: len(m.temperatures),
                ),
                Param("celsius", int, "temperature", default=78, minimum=-40),
            ),
        ),
    }

    def __init__(self, device: Any, clock: Clock) -> None:
        super().__init__(device, clock)
        spec = device.spec
        rng = random.Random(f"{device.id}/ports")
        uplink = spec.ports if device.parent is not None else None
        self.ports: list[Port] = []
        for n in range(1, spec.ports + 1):
            # Access ports carry a few Mbit/s, uplinks the sum of a busy floor.
            scale = 40.0 if n == uplink else 1.0
            self.ports.append(
                Port(
                    n,
                    rate_in=rng.uniform(20_000, 600_000) * scale,
                    rate_out=rng.uniform(50_000, 1_200_000) * scale,
                    now=self.now,
                    poe_capable=spec.poe and n != uplink,
                )
            )
        if uplink is not None:
            self.ports[uplink - 1].alias = f"uplink to {device.parent}"
        self.temperatures = [
            Sensor(10 + i, f"Temperature {i}", 8, 8, 34 + 6 * (i - 1), units="C")
            for i in range(1, spec.temperatures + 1)
        ]
        self.fans = [
            Sensor(20 + i, f"Fan {i}", 7, 10, 5200 + 150 * i, units="RPM")
            for i in range(1, spec.fans + 1)
        ]
        self.psus = [
            Sensor(30 + i, f"Power supply {i}", 6, 12, 1, units="PSU OK")
            for i in range(1, spec.psus + 1)
        ]
        self.sensor_by_index = {sensor.index: sensor for sensor in self.sensors()}
        # Ports facing other switches (10G); set by the fleet runtime.
        self.switch_ports: set[int] = set()
        # Its LLDP neighbours, learned MACs and ARP cache; set by the fleet runtime.
        self.view = SwitchView()

    # -- reads -----------------------------------------------------------------------

    def port(self, n: int) -> Port:
        return self.ports[n - 1]

    def port_passes(self, n: int) -> bool:
        """Traffic through port ``n`` reaches the device behind it."""
        return self.port(n).oper_up

    def sensors(self) -> list[Sensor]:
        return [*self.temperatures, *self.fans, *self.psus]

    def sensor_value(self, sensor: Sensor) -> int:
        if sensor.type == 8 and sensor.ok and sensor.value == sensor.nominal:
            # A healthy temperature drifts by a degree over a few minutes.
            return round(sensor.nominal + math.sin(self.now / 120.0 + sensor.index))
        return round(sensor.value)

    def poe_consumption(self) -> float:
        return sum(POE_WATTS for port in self.ports if port.poe_capable and port.poe_status() == 3)

    def reset_counters(self) -> None:
        for port in self.ports:
            port.reset(self.now)
            port.last_change = self.now

    # -- faults ----------------------------------------------------------------------

    def _set_port(self, n: int, *, admin: bool | None = None, link: bool | None = None) -> None:
        port = self.port(n)
        was_up = port.oper_up
        if admin is not None:
            port.admin_up = admin
        if link is not None:
            port.link_up = link
        if port.oper_up != was_up:
            port.last_change = self.now
            port.retime(self.now)
            self.emit(LinkChanged(n, port.oper_up))

    def _inject_port_down(self, port: int) -> None:
        self._set_port(port, link=False)

    def _clear_port_down(self, port: int) -> None:
        self._set_port(port, link=True)

    def _inject_port_admin_down(self, port: int) -> None:
        self._set_port(port, admin=False)

    def _clear_port_admin_down(self, port: int) -> None:
        self._set_port(port, admin=True)

    def _inject_port_errors(self, port: int, rate: float) -> None:
        self.port(port).error_rate = rate
        self.port(port).retime(self.now)

    def _clear_port_errors(self, port: int, rate: float) -> None:
        self.port(port).error_rate = 0.0
        self.port(port).retime(self.now)

    def _inject_poe_fault(self, port: int) -> None:
        self.port(port).poe_fault = True

    def _clear_poe_fault(self, port: int) -> None:
        self.port(port).poe_fault = False

    def _inject_fan_failed(self, fan: int) -> None:
        sensor = self.fans[fan - 1]
        sensor.ok, sensor.value = False, 0

    def _clear_fan_failed(self, fan: int) -> None:
        sensor = self.fans[fan - 1]
        sensor.ok, sensor.value = True, sensor.nominal

    def _inject_psu_failed(self, psu: int) -> None:
        sensor = self.psus[psu - 1]
        sensor.ok, sensor.value = False, 2

    def _clear_psu_failed(self, psu: int) -> None:
        sensor = self.psus[psu - 1]
        sensor.ok, sensor.value = True, sensor.nominal

    def _inject_overheat(self, sensor: int, celsius: int) -> None:
        self.temperatures[sensor - 1].value = celsius

    def _clear_overheat(self, sensor: int, celsius: int) -> None:
        self.temperatures[sensor - 1].value = self.temperatures[sensor - 1].nominal
