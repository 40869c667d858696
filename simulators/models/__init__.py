"""Device behaviour models, one per kind, free of any protocol."""

from __future__ import annotations

from simulators.fleet import Device
from simulators.models.base import Clock, DeviceModel
from simulators.models.nvr import NvrModel
from simulators.models.panel import AlarmPanelModel, SiaPanelModel
from simulators.models.pbx import PbxModel
from simulators.models.switch import SwitchModel
from simulators.models.ups import UpsModel

MODEL_CLASSES: dict[str, type[DeviceModel]] = {
    cls.kind: cls for cls in (SwitchModel, NvrModel, PbxModel, UpsModel, AlarmPanelModel)
}


def build_model(device: Device, clock: Clock) -> DeviceModel:
    if device.sia is not None:
        return SiaPanelModel(device, clock)
    return MODEL_CLASSES[device.kind](device, clock)
