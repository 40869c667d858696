"""Building blocks of the correlation tests: a site of devices, conditions, a fake probe."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from gateway.config import LoadedConfig, load_config
from gateway.model import Condition, Level
from tests.rules.harness import T0 as T0  # re-exported: the tests' epoch

PROFILES = Path(__file__).parent / "profiles"
PROFILE_OF_KIND = {
    "switch": "test-switch",
    "nvr": "test-nvr",
    "pbx": "test-pbx",
    "alarm_panel": "test-alarm-panel",
}
UNREACHABLE = "device.unreachable"

# The site most tests use: a core switch, two access switches, and on the first an
# NVR, a PBX and an alarm panel.
#
#   sw-core ─┬─ sw-1 ─┬─ nvr-1
#            │        ├─ pbx-1
#            │        └─ panel-1
#            └─ sw-2 ─── nvr-2
SITE: dict[str, dict[str, Any]] = {
    "sw-core": {"kind": "switch", "role": "core"},
    "sw-1": {"kind": "switch", "parent": "sw-core"},
    "sw-2": {"kind": "switch", "parent": "sw-core"},
    "nvr-1": {"kind": "nvr", "parent": "sw-1"},
    "pbx-1": {"kind": "pbx", "parent": "sw-1"},
    "panel-1": {"kind": "alarm_panel", "parent": "sw-1"},
    "nvr-2": {"kind": "nvr", "parent": "sw-2"},
}


def site_config(directory: Path, devices: Mapping[str, Mapping[str, Any]] = SITE) -> LoadedConfig:
    """Write and load a site file with ``devices`` (id -> kind, parent, role, interval)."""
    entries = []
    for n, (device_id, spec) in enumerate(devices.items(), start=1):
        entry = {"id": device_id, "address": f"192.0.2.{n}", **spec}
        entry.setdefault("profile", PROFILE_OF_KIND[spec["kind"]])
        entries.append(entry)
    site = {
        "site": {"id": "s", "name": "S", "customer": {"name": "C"}, "contract": {"type": "annual"}},
        "uplink": {"mqtt": {"host": "127.0.0.1"}},
        "agent": {"state_dir": str(directory / "state"), "profile_dirs": [str(PROFILES)]},
        "devices": entries,
    }
    path = directory / "site.yaml"
    path.write_text(yaml.safe_dump(site, sort_keys=False))
    return load_config(path)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def fault(
    device: str, code: str, seconds: float, level: int = 3, active: bool = True, instance: str = ""
) -> Condition:
    """Another of the rules' conditions (stale readings, a disk...)."""
    return Condition(
        device=device,
        code=code,
        level=Level(level),
        title=f"{code} on {device}",
        active=active,
        since=at(seconds),
        instance=instance,
    )


def unreachable(device: str, seconds: float, level: int = 2, active: bool = True) -> Condition:
    """The rules' unreachable condition of ``device`` at T0 + ``seconds``."""
    return fault(device, UNREACHABLE, seconds, level, active)


class FakeProbe:
    """Answers for every device except those in ``down``; records who was asked."""

    def __init__(self, down: Iterable[str] = ()) -> None:
        self.down = set(down)
        self.calls: list[str] = []

    async def __call__(self, device: str) -> bool:
        self.calls.append(device)
        return device not in self.down


def brief(conditions: Iterable[Condition]) -> list[tuple[str, str, bool, int, tuple[str, ...]]]:
    """(device, code, active, level, related) of each condition, for assertions."""
    return [(c.device, c.code, c.active, int(c.level), c.related) for c in conditions]
