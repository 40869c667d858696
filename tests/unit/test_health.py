"""The health document (the retained ``health`` topic) from the pipeline's device views,
with the shipped profiles: figures found by meaning, totals, a device down."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway.config import load_config
from gateway.model import Value
from gateway.snapshot import DeviceView, build_health
from tests.rules.harness import down, poll, write_site

DEVICES: list[dict[str, Any]] = [
    {"id": "nvr", "kind": "nvr", "profile": "nvr-hikvision"},
    {"id": "ups", "kind": "ups", "profile": "ups-rfc1628"},
    {"id": "panel", "kind": "alarm_panel", "profile": "alarm-panel-modbus", "modbus": {}},
    {"id": "sw", "kind": "switch", "profile": "switch-generic"},
]


def view(device: str, values: Mapping[str, Value]) -> DeviceView:
    seen = DeviceView()
    seen.update(poll(device, 0, values))
    return seen


def test_figures_by_meaning_and_totals(tmp_path: Path) -> None:
    config = load_config(write_site(tmp_path, DEVICES))
    views = {
        "nvr": view("nvr", {"camera.online[1]": "online", "camera.online[2]": "offline",
                            "disk.status[1]": "normal", "disk.status[2]": "smart_failed"}),
        "ups": view("ups", {"ups.seconds_on_battery": 120, "ups.charge": 80,
                            "ups.minutes_remaining": 25, "ups.battery_status": "normal"}),
        "panel": view("panel", {"panel.system.mains_fail": 0, "panel.system.battery_low": 1,
                                "panel.battery_voltage": 12.0412}),
    }  # fmt: skip
    views["sw"] = view("sw", {})
    views["sw"].update(down("sw", 1))  # a device down: its last figures are stale
    health = build_health(config, views, ())
    assert health["devices"] == {
        "nvr": {"kind": "nvr", "state": "up", "level": None,
                "cameras": {"online": 1, "total": 2}, "disks": {"healthy": 1, "total": 2}},
        "ups": {"kind": "ups", "state": "up", "level": None, "mains": "lost",
                "battery": {"charge": 80, "runtime_min": 25, "status": "normal"}},
        "panel": {"kind": "alarm_panel", "state": "up", "level": None, "mains": "on",
                  "battery": {"low": True, "volts": 12.04}},
        "sw": {"kind": "switch", "state": "down", "level": None},
    }  # fmt: skip
    assert health["totals"] == {
        "cameras": {"online": 1, "total": 2},
        "disks": {"healthy": 1, "total": 2},
        "mains": {"on": 1, "total": 2},
    }
