"""`lvgw-sim` end to end, in subprocesses: run, list, inject, clear, check, exit codes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.realservers import wait_until
from tests.simulators.conftest import SimFleet, free_port_on

pytestmark = pytest.mark.integration


def lvgw_sim(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simulators", *args],
        capture_output=True, text=True, timeout=30, check=False, env=env,
    )  # fmt: skip


def test_list_inject_clear_through_the_control_endpoint(sim: SimFleet) -> None:
    listed = lvgw_sim("list", "--control", sim.control)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split()[:4] == ["ID", "KIND", "ENDPOINT", "STATE"]
    assert any(line.split()[:2] == ["sw-acc", "switch"] for line in listed.stdout.splitlines())

    injected = lvgw_sim("inject", "sw-acc", "port_down", "--set", "port=7", "--control",
                        sim.control)  # fmt: skip
    assert injected.returncode == 0, injected.stderr
    assert injected.stdout.strip() == "sw-acc: injected port_down(port=7)"

    env = {**os.environ, "LVGW_SIM_CONTROL": sim.control}
    as_json = json.loads(lvgw_sim("list", "--json", env=env).stdout)
    acc = next(device for device in as_json if device["id"] == "sw-acc")
    assert acc["faults"] == [{"fault": "port_down", "params": {"port": 7}}]
    assert acc["answering"] is True

    cleared = lvgw_sim("clear", "sw-acc", "port_down", env=env)
    assert cleared.returncode == 0, cleared.stderr
    assert cleared.stdout.strip() == "sw-acc: cleared port_down(port=7)"
    assert sim.client.devices()[1]["faults"] == []


def test_fault_catalogue(sim: SimFleet) -> None:
    faults = lvgw_sim("list", "--faults", "--control", sim.control)
    assert faults.returncode == 0
    assert "port_admin_down" in faults.stdout and "port=<port number>" in faults.stdout


def test_bad_usage_exits_2(sim: SimFleet) -> None:
    cases = [
        (["inject", "nosuch", "down"], "no device 'nosuch'"),
        (["inject", "sw-acc", "melt"], "has no fault 'melt'"),
        (["inject", "sw-acc", "port_down"], "needs --set port="),
        (["inject", "sw-acc", "port_down", "--set", "port=99"], "out of range"),
        (["inject", "sw-acc", "port_down", "--set", "port"], "expected KEY=VALUE"),
        (["inject", "sw-acc", "port_down", "--set", "lane=1"], "no parameter 'lane'"),
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda case: lvgw_sim(*case[0], "--control", sim.control), cases))
    for (args, message), result in zip(cases, results, strict=True):
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
    assert lvgw_sim("frobnicate").returncode == 2


def test_unreachable_endpoint_exits_1() -> None:
    port = free_port_on("127.0.0.1", socket.SOCK_STREAM)
    result = lvgw_sim("list", "--control", f"127.0.0.1:{port}")
    assert result.returncode == 1
    assert f"control endpoint 127.0.0.1:{port} not reachable" in result.stderr


def test_bad_fleet_file_exits_2_with_file_and_line(tmp_path: Path) -> None:
    fleet = tmp_path / "bad.yaml"
    fleet.write_text(
        "devices:\n"
        "  - id: sw-1\n"
        "    kind: switch\n"
        "    port: 16100\n"
        "    ports: 1000\n"
        "  - id: nvr-1\n"
        "    kind: nvr\n"
        "    port: 16100\n"
        "    colour: blue\n"
    )
    result = lvgw_sim("run", "--fleet", str(fleet))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert f"{fleet}:5: device sw-1: ports: Input should be less than or equal to 512" in lines
    assert f"{fleet}:9: device nvr-1: colour: unknown field" in lines
    bad_yaml = tmp_path / "syntax.yaml"
    bad_yaml.write_text("devices:\n  - id: [unclosed\n")
    result = lvgw_sim("check", str(bad_yaml))
    assert result.returncode == 2 and f"{bad_yaml}:3: invalid YAML" in result.stderr


def test_taken_port_exits_1(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        fleet = tmp_path / "fleet.yaml"
        fleet.write_text(f"devices:\n  - {{id: sw, kind: switch, port: {port}}}\n")
        result = lvgw_sim("run", "--fleet", str(fleet), "--control", "127.0.0.1:0")
    assert result.returncode == 1
    assert f"sw: cannot serve SNMP on udp 127.0.0.1:{port}" in result.stderr


def test_write_config_and_scenario(tmp_path: Path) -> None:
    port = free_port_on("127.0.0.1")
    fleet_yaml = (
        f"defaults: {{port: {port}, interval: 1m}}\n"
        "site: {id: shop-12, name: Shop 12, zone: suburban, contract: {type: per_visit}}\n"
        "devices:\n"
        "  - {id: core, kind: switch, address: 127.0.0.1, ports: 8}\n"
        "  - {id: edge, kind: switch, address: 127.0.0.3, ports: 8}\n"
    )
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(
        "name: blink\n"
        "steps:\n"
        "  - {at: 0s, device: edge, inject: port_down, set: {port: 2}}\n"
        "  - {at: 1s, device: edge, clear: all}\n"
    )
    site_file = tmp_path / "site.yaml"
    sim = SimFleet(tmp_path, fleet_yaml, ["--write-config", str(site_file),
                                          "--scenario", str(scenario)])  # fmt: skip
    sim.start(timeout=20)
    try:
        site = yaml.safe_load(site_file.read_text())
        wait_until(lambda: sim.client.devices()[1]["faults"] != [], 3, "scenario inject")
        wait_until(lambda: sim.client.devices()[1]["faults"] == [], 4, "scenario clear")
    finally:
        sim.stop()
    assert sim.proc is not None and sim.proc.returncode == 0  # clean exit on SIGTERM
    assert site["site"]["id"] == "shop-12" and site["site"]["zone"] == "suburban"
    assert site["site"]["contract"]["type"] == "per_visit"
    assert site["uplink"] == {"mqtt": {"host": "127.0.0.1", "port": 1883}}
    assert site["devices"] == [
        {"id": "core", "kind": "switch", "profile": "switch-generic", "address": "127.0.0.1",
         "port": port, "snmp": {"version": "2c", "community": "public"}, "interval": "1m",
         "role": "core"},
        {"id": "edge", "kind": "switch", "profile": "switch-generic", "address": "127.0.0.3",
         "port": port, "snmp": {"version": "2c", "community": "public"}, "interval": "1m",
         "parent": "core", "role": "access"},
    ]  # fmt: skip
    output = sim.log_path.read_text().splitlines()
    first_line = next(line for line in output if line.startswith("lvgw-sim:"))
    assert first_line.startswith(f"lvgw-sim: control http://{sim.control}/ serving 2 devices")


def test_missing_serial_line_exits_1(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "devices:\n"
        f"  - {{id: panel, kind: alarm_panel, modbus: {{serial: {{port: {tmp_path}/no-tty}}}}}}\n"
    )
    result = lvgw_sim("run", "--fleet", str(fleet), "--control", "127.0.0.1:0")
    assert result.returncode == 1
    assert f"panel: cannot serve Modbus on serial line {tmp_path}/no-tty" in result.stderr
