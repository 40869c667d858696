"""Device behaviour models, one per kind, free of any protocol."""

from __future__ import annotations

from simulators.fleet import Device
from simulators.models.base import Clock, DeviceModel
from simulators.models.switch import SwitchModel

MODEL_CLASSES: dict[str, type[DeviceModel]] = {cls.kind: cls for cls in (SwitchModel,)}


def build_model(device: Device, clock: Clock) -> DeviceModel:
    return MODEL_CLASSES[device.kind](device, clock)
