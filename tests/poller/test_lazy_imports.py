"""A protocol's library is loaded when a device of the site speaks it, not before: the
agent of a site without Modbus devices, its readers built, has not imported pymodbus.

Each case runs in a fresh interpreter (the test process has imported everything)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

HEAD = """\
site: {id: site-1, name: Test, customer: {name: C}, contract: {type: annual}}
uplink: {mqtt: {host: 127.0.0.1}}
"""
SWITCH = "  - {id: sw-1, kind: switch, profile: switch-generic, address: 127.0.0.1}\n"
PANEL = "  - {id: panel, kind: alarm_panel, profile: alarm-panel-modbus, address: 127.0.0.3}\n"

# Builds what `lvgw run` builds before it polls (the agent, every device's reader and
# schedule), then lists the top-level packages loaded.
PROBE = """
import asyncio, json, sys
from gateway.agent import Agent
from gateway.config import load_config

async def main():
    Agent(load_config(sys.argv[1])).schedules()

asyncio.run(main())
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def loaded_after_start(tmp_path: Path, devices: str) -> set[str]:
    site = tmp_path / "site.yaml"
    site.write_text(HEAD + f"agent: {{state_dir: {tmp_path / 'state'}}}\n" + devices)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(site)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_a_site_without_modbus_devices_does_not_load_pymodbus(tmp_path: Path) -> None:
    assert "pymodbus" not in loaded_after_start(tmp_path, "devices:\n" + SWITCH)


def test_a_modbus_device_loads_pymodbus_with_its_reader(tmp_path: Path) -> None:
    assert "pymodbus" in loaded_after_start(tmp_path, "devices:\n" + SWITCH + PANEL)
