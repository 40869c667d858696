"""A UPS (RFC 1628 behaviour): on mains it floats its battery; on battery the charge
falls at a rate set by the load, down to depleted, when the output switches off.

``battery_minutes`` is the runtime of a full battery at the configured load; an
overload shortens it in proportion. Mains back recharges at a quarter of that pace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulators.models.base import Clock, DeviceModel, FaultSpec, Param, Ramp
from simulators.models.events import PowerChanged

LOW_BATTERY_MINUTES = 2  # upsConfigLowBattTime
LOW_CHARGE = 25
RATED_WATTS = 2700
RECHARGE_SLOWER = 4.0

# upsWellKnownAlarms (1.3.6.1.2.1.33.1.6.3.N)
ALARM_ON_BATTERY = 2
ALARM_LOW_BATTERY = 3
ALARM_DEPLETED_BATTERY = 4
ALARM_OUTPUT_OVERLOAD = 8


@dataclass(frozen=True, slots=True)
class Alarm:
    id: int  # upsAlarmId, increasing
    kind: int  # the well-known alarm number
    raised_at: float  # monotonic time


class UpsModel(DeviceModel):
    kind = "ups"

    FAULTS = {
        "on_battery": FaultSpec(
            "on_battery",
            "mains lost: the UPS runs on battery and the charge falls (upsTrapOnBattery)",
            (
                Param(
                    "minutes",
                    float,
                    "runtime of a full battery (default: the fleet's)",
                    default=None,
                    minimum=0.01,
                ),
            ),
        ),
        "battery_low": FaultSpec(
            "battery_low", "the battery is worn: upsBatteryStatus low(3), little runtime left"
        ),
        "overload": FaultSpec(
            "overload",
            "the output is overloaded (upsAlarmOutputOverload)",
            (Param("load", int, "output load in percent", default=120, minimum=101),),
        ),
    }

    def __init__(self, device: Any, clock: Clock) -> None:
        super().__init__(device, clock)
        spec = device.spec
        self.nominal_load = max(1, spec.load_percent)
        self.load = self.nominal_load
        self.battery_minutes = float(spec.battery_minutes)
        self.charge = Ramp(100.0, self.now, lo=0.0, hi=100.0)
        self.on_battery_since: float | None = None
        self.battery_worn = False
        self.line_bads = 0
        self.alarms: list[Alarm] = []
        self._next_alarm = 1

    # -- state -----------------------------------------------------------------------

    def refresh(self, now: float | None = None) -> None:
        super().refresh(now)
        self._sync_alarms()

    def runtime_full_minutes(self) -> float:
        return float(self.battery_minutes * self.nominal_load / max(self.load, 1))

    def charge_percent(self) -> float:
        return self.charge.at(self.now)

    def minutes_remaining(self) -> int:
        minutes = self.charge_percent() / 100 * self.runtime_full_minutes()
        return min(round(minutes), 1) if self.battery_worn else round(minutes)

    def seconds_on_battery(self) -> int:
        since = self.on_battery_since
        return 0 if since is None else int(self.now - since)

    def depleted(self) -> bool:
        return self.on_battery_since is not None and self.charge_percent() <= 0

    def battery_status(self) -> int:
        """upsBatteryStatus: normal 2, low 3, depleted 4."""
        if self.depleted():
            return 4
        low = self.charge_percent() < LOW_CHARGE or self.minutes_remaining() < LOW_BATTERY_MINUTES
        if self.battery_worn or (self.on_battery_since is not None and low):
            return 3
        return 2

    def output_source(self) -> int:
        """upsOutputSource: none 2, normal 3, battery 5."""
        if self.depleted():
            return 2
        return 5 if self.on_battery_since is not None else 3

    def output_load(self) -> int:
        return 0 if self.depleted() else self.load

    def battery_decivolts(self) -> int:
        if self.on_battery_since is None:
            return 546  # float charge of a 48 V string
        return round(420 + 100 * self.charge_percent() / 100)

    def _sync_alarms(self) -> None:
        wanted = set()
        if self.on_battery_since is not None:
            wanted.add(ALARM_ON_BATTERY)
        status = self.battery_status()
        if status == 3:
            wanted.add(ALARM_LOW_BATTERY)
        elif status == 4:
            wanted.add(ALARM_DEPLETED_BATTERY)
        if self.load > 100:
            wanted.add(ALARM_OUTPUT_OVERLOAD)
        present = {alarm.kind for alarm in self.alarms}
        if wanted == present:
            return
        self.alarms = [alarm for alarm in self.alarms if alarm.kind in wanted]
        for kind in sorted(wanted - present):
            self.alarms.append(Alarm(self._next_alarm, kind, self.now))
            self._next_alarm += 1

    def _retime(self) -> None:
        full = self.runtime_full_minutes() * 60
        if self.on_battery_since is not None:
            self.charge.set(self.now, rate=-100 / full)
        else:
            self.charge.set(self.now, rate=100 / (full * RECHARGE_SLOWER))
        self._sync_alarms()

    # -- faults ----------------------------------------------------------------------

    def _inject_on_battery(self, minutes: float | None = None) -> None:
        if minutes is not None:
            self.battery_minutes = minutes
        self.on_battery_since = self.now
        self.line_bads += 1
        self._retime()
        self.emit(PowerChanged(on_battery=True))

    def _clear_on_battery(self, minutes: float | None = None) -> None:
        self.on_battery_since = None
        self.battery_minutes = float(self.device.spec.battery_minutes)
        self._retime()
        self.emit(PowerChanged(on_battery=False))

    def _inject_battery_low(self) -> None:
        self.battery_worn = True
        self._sync_alarms()

    def _clear_battery_low(self) -> None:
        self.battery_worn = False
        self._sync_alarms()

    def _inject_overload(self, load: int) -> None:
        self.load = load
        self._retime()

    def _clear_overload(self, load: int) -> None:
        self.load = self.nominal_load
        self._retime()
