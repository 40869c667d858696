"""What a simulated APC UPS serves besides RFC 1628: APC's PowerNet-MIB (version 4.5.2,
"APC TOP LEVEL PowerNet MIB"), the objects the ups-apc-powernet profile reads, under
ups = enterprises(318).products(1).hardware(1).ups(1)."""

from __future__ import annotations

from simulators.models.ups import UpsModel
from simulators.snmp.mibtree import Gauge32, Integer, OctetString, TimeTicks, TreeBuilder

PN_UPS = "1.3.6.1.4.1.318.1.1.1"
VOLTS = 230
TEMPERATURE_C = 27

# upsBasicOutputStatus
ON_LINE = 2
ON_BATTERY = 3
OFF = 7
# upsBasicBatteryStatus: batteryNormal(2), batteryLow(3); RFC 1628's depleted is low here
BATTERY_LOW = 3
# upsAdvBatteryReplaceIndicator
NO_BATTERY_NEEDS_REPLACING = 1
BATTERY_NEEDS_REPLACING = 2


def add_powernet(tree: TreeBuilder) -> None:
    tree.scalar(f"{PN_UPS}.1.1.1", lambda m: OctetString(m.device.flavour.model))  # Model
    # upsBasicBattery: Status, TimeOnBattery
    tree.scalar(f"{PN_UPS}.2.1.1", lambda m: Integer(min(m.battery_status(), BATTERY_LOW)))
    tree.scalar(f"{PN_UPS}.2.1.2", lambda m: TimeTicks(m.seconds_on_battery() * 100))
    # upsAdvBattery: Capacity, Temperature, RunTimeRemaining, ReplaceIndicator
    tree.scalar(f"{PN_UPS}.2.2.1", lambda m: Gauge32(round(m.charge_percent())))
    tree.constant(f"{PN_UPS}.2.2.2", Gauge32(TEMPERATURE_C))
    tree.scalar(f"{PN_UPS}.2.2.3", lambda m: TimeTicks(m.minutes_remaining() * 60 * 100))
    tree.scalar(f"{PN_UPS}.2.2.4", _replace_indicator)
    # upsAdvInput: LineVoltage
    tree.scalar(f"{PN_UPS}.3.2.1", lambda m: Gauge32(0 if _on_battery(m) else VOLTS))
    # upsBasicOutput: Status; upsAdvOutput: Voltage, Load
    tree.scalar(f"{PN_UPS}.4.1.1", lambda m: Integer(_output_status(m)))
    tree.scalar(f"{PN_UPS}.4.2.1", lambda m: Gauge32(0 if m.depleted() else VOLTS))
    tree.scalar(f"{PN_UPS}.4.2.3", lambda m: Gauge32(m.output_load()))


def _output_status(model: UpsModel) -> int:
    if model.depleted():
        return OFF
    return ON_BATTERY if _on_battery(model) else ON_LINE


def _on_battery(model: UpsModel) -> bool:
    return model.on_battery_since is not None


def _replace_indicator(model: UpsModel) -> Integer:
    worn = model.battery_worn
    return Integer(BATTERY_NEEDS_REPLACING if worn else NO_BATTERY_NEEDS_REPLACING)
