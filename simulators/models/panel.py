"""An intrusion alarm panel: mains and a 12 V backup battery, a tamper switch on its
box, an armed state, and zones with alarm, tamper, fault, bypass and detector-battery
flags (see docs/alarm-panel-modbus.md for how they are exposed).

On mains the charger floats the battery at 13.65 V. On battery the voltage falls from
12.9 V to 10.5 V over ``battery_minutes``; "battery low" is below 11.5 V; at 10.5 V
the panel shuts down and stops answering until mains returns (then it boots).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulators.models.base import ActiveFault, Clock, DeviceModel, FaultSpec, Param, Ramp
from simulators.models.events import StateChanged

FLOAT_VOLTS = 13.65
FULL_VOLTS = 12.9
EMPTY_VOLTS = 10.5
LOW_VOLTS = 11.5
WORN_VOLTS = 11.3  # a worn battery, as measured under the panel's load

ZONE_ALARM = 1 << 0
ZONE_TAMPER = 1 << 1
ZONE_FAULT = 1 << 2
ZONE_BYPASS = 1 << 3
ZONE_LOW_BATTERY = 1 << 4


ZONE_PARAMS = (Param("zone", int, "zone number", maximum=lambda m: len(m.zones)),)


@dataclass(slots=True)
class Zone:
    index: int
    flags: int = 0


ZONE_FAULTS = {
    "zone_alarm": ZONE_ALARM,
    "zone_tamper": ZONE_TAMPER,
    "zone_fault": ZONE_FAULT,
    "zone_bypass": ZONE_BYPASS,
    "detector_battery_low": ZONE_LOW_BATTERY,
}


class AlarmPanelModel(DeviceModel):
    kind = "alarm_panel"
    HAS_CLOCK = False  # the register map has no clock

    FAULTS = {
        "mains_fail": FaultSpec(
            "mains_fail",
            "mains lost: the panel runs on its battery, whose voltage falls",
            (
                Param(
                    "minutes",
                    float,
                    "battery runtime from full (default: the fleet's)",
                    default=None,
                    minimum=0.01,
                ),
            ),
        ),
        "battery_low": FaultSpec("battery_low", "the backup battery is worn: battery-low flag"),
        "comm_lost": FaultSpec(
            "comm_lost", "the panel reports a communication failure (its link to the ARC)"
        ),
        "box_tamper": FaultSpec("box_tamper", "the panel's enclosure is open"),
        "disarmed": FaultSpec("disarmed", "the system is left disarmed"),
        **{
            name: FaultSpec(name, f"zone flag: {name.replace('_', ' ')}", ZONE_PARAMS)
            for name in ZONE_FAULTS
        },
    }

    def __init__(self, device: Any, clock: Clock) -> None:
        super().__init__(device, clock)
        spec = device.spec
        self.zones = [Zone(n) for n in range(1, spec.zones + 1)]
        self.battery_minutes = float(spec.battery_minutes)
        self.battery = Ramp(FULL_VOLTS, self.now, lo=EMPTY_VOLTS, hi=FULL_VOLTS)
        self.on_battery = False
        self.battery_worn = False
        self.comm_failure = False
        self.box_tamper = False
        self.armed = True

    # -- state -----------------------------------------------------------------------

    def battery_volts(self) -> float:
        if not self.on_battery:
            return WORN_VOLTS if self.battery_worn else FLOAT_VOLTS
        volts = self.battery.at(self.now)
        return min(volts, WORN_VOLTS) if self.battery_worn else volts

    def battery_low(self) -> bool:
        return self.battery_worn or self.battery_volts() < LOW_VOLTS

    def depleted(self) -> bool:
        return self.on_battery and self.battery.at(self.now) <= EMPTY_VOLTS

    def answering(self) -> bool:
        self.refresh()
        return not self.depleted() and super().answering()

    # -- faults ----------------------------------------------------------------------

    def _inject_mains_fail(self, minutes: float | None = None) -> None:
        runtime = (minutes or self.battery_minutes) * 60
        self.on_battery = True
        self.battery.set(self.now, value=FULL_VOLTS, rate=-(FULL_VOLTS - EMPTY_VOLTS) / runtime)

    def _clear_mains_fail(self, minutes: float | None = None) -> None:
        was_off = self.depleted()
        self.on_battery = False
        self.battery.set(self.now, value=FULL_VOLTS, rate=0.0)
        if was_off:
            self.boot()  # mains back after a flat battery: the panel starts again

    def _inject_battery_low(self) -> None:
        self.battery_worn = True

    def _clear_battery_low(self) -> None:
        self.battery_worn = False

    def _inject_comm_lost(self) -> None:
        self.comm_failure = True

    def _clear_comm_lost(self) -> None:
        self.comm_failure = False

    def _inject_box_tamper(self) -> None:
        self.box_tamper = True

    def _clear_box_tamper(self) -> None:
        self.box_tamper = False

    def _inject_disarmed(self) -> None:
        self.armed = False

    def _clear_disarmed(self) -> None:
        self.armed = True

    def _apply(self, fault: ActiveFault, on: bool) -> None:
        flag = ZONE_FAULTS.get(fault.name)
        if flag is None:
            super()._apply(fault, on)
            return
        zone = self.zones[int(fault.params["zone"]) - 1]
        zone.flags = zone.flags | flag if on else zone.flags & ~flag


class SiaPanelModel(AlarmPanelModel):
    """A panel that reports over SIA DC-09 instead of serving Modbus
    (``simulators/dc09``). Its messages carry its clock, so it has the clock faults;
    it supervises its siren; and ``comm_lost`` is its path to the receiver lost: it
    sends nothing, test reports neither, until the fault is cleared. Every change of
    its state is announced (``StateChanged``) for its transmitter to report."""

    FAULT_SET = "alarm_panel/sia"
    HAS_CLOCK = True

    FAULTS = {
        **AlarmPanelModel.FAULTS,
        "comm_lost": FaultSpec(
            "comm_lost",
            "its path to the receiver is lost: it sends nothing (no test report either) "
            "until cleared, then what changed meanwhile and a communication restoral",
        ),
        "siren_fault": FaultSpec("siren_fault", "the siren (bell) is in trouble"),
    }

    def __init__(self, device: Any, clock: Clock) -> None:
        super().__init__(device, clock)
        self.siren_fault = False

    def _inject_siren_fault(self) -> None:
        self.siren_fault = True

    def _clear_siren_fault(self) -> None:
        self.siren_fault = False

    def _apply(self, fault: ActiveFault, on: bool) -> None:
        super()._apply(fault, on)
        self.emit(StateChanged())
