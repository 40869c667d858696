"""Fleet and scenario files: defaults, repeat, topology, and `FILE:LINE` errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators.errors import ConfigError
from simulators.fleet import Fleet, load_fleet
from simulators.models import build_model
from simulators.runtime import FleetRuntime
from simulators.scenario import load_scenario
from simulators.siteconfig import site_document
from simulators.yamlfile import parse_duration

ROOT = Path(__file__).resolve().parents[2]
FLEETS = ROOT / "simulators" / "fleets"
SCENARIOS = ROOT / "simulators" / "scenarios"


def fleet_from(tmp_path: Path, text: str) -> Fleet:
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    return load_fleet(path)


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "fleet.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_fleet(path)
    return [line.replace(f"{path}:", "L") for line in caught.value.problems]


def test_demo_fleet_is_the_documented_site() -> None:
    fleet = load_fleet(FLEETS / "demo.yaml")
    by_id = fleet.by_id()
    kinds = sorted(device.kind for device in fleet.devices)
    assert kinds == ["alarm_panel", "nvr", "pbx", "switch", "switch", "switch", "ups"]
    assert by_id["sw-core"].role == "core" and by_id["sw-core"].parent is None
    assert [by_id[s].role for s in ("sw-floor1", "sw-floor2")] == ["access", "access"]
    assert by_id["sw-floor1"].parent == "sw-core"
    assert by_id["nvr-1"].spec.cameras == 16 and by_id["nvr-1"].spec.disks == 4
    assert by_id["pbx-1"].spec.trunks == 4 and by_id["panel-1"].spec.zones == 16
    addresses = [device.address for device in fleet.devices]
    assert len(set(addresses)) == len(addresses)  # every device on its own address
    served = [device for device in fleet.devices if device.sia is None]
    assert all(device.port is not None and device.port > 1023 for device in served)
    assert fleet.control == ("127.0.0.1", 8700)
    # The panel reports over DC-09, encrypted, to the gateway's receiver; the large
    # fleet keeps Modbus panels.
    panel = by_id["panel-1"]
    assert (panel.protocol, panel.profile, panel.port) == ("sia", "alarm-panel-sia", None)
    assert panel.sia is not None and panel.sia.key_bytes() is not None
    assert panel.sia.receiver == "127.0.0.1:12300"
    # The PBX is read over AMI, as a real site reads its Asterisk.
    pbx = by_id["pbx-1"]
    assert (pbx.profile, pbx.spec.ami.port, pbx.spec.ami.write) == (
        "pbx-asterisk-ami", 5038, ["reporting"])  # fmt: skip


def test_large_fleet_has_500_mixed_devices() -> None:
    fleet = load_fleet(FLEETS / "large.yaml")
    assert len(fleet.devices) == 500
    assert {device.kind for device in fleet.devices} == {
        "switch", "nvr", "pbx", "ups", "alarm_panel"}  # fmt: skip
    assert len({device.endpoint for device in fleet.devices}) == 500
    panels = [device for device in fleet.devices if device.kind == "alarm_panel"]
    assert {panel.protocol for panel in panels} == {"modbus"}
    nvrs = [device for device in fleet.devices if device.kind == "nvr"]
    assert nvrs[0].id == "nvr-001" and nvrs[-1].id == "nvr-150"
    assert nvrs[-1].address == "127.77.2.150"


@pytest.mark.parametrize("scenario", sorted(p.name for p in SCENARIOS.glob("*.yaml")))
def test_shipped_scenarios_fit_the_demo_fleet(scenario: str) -> None:
    runtime = FleetRuntime(load_fleet(FLEETS / "demo.yaml"))
    assert load_scenario(SCENARIOS / scenario, runtime.models).steps


def test_defaults_repeat_and_inferred_topology(tmp_path: Path) -> None:
    fleet = fleet_from(
        tmp_path,
        "defaults: {port: 2000, address: 127.5.0.1, interval: 1m, trap_receivers: "
        "[127.0.0.1:2162]}\n"
        "devices:\n"
        "  - {id: core, kind: switch, ports: 4}\n"
        "  - {id: acc, kind: switch, ports: 8, repeat: 2, address: 127.5.1.1}\n"
        "  - {id: cam, kind: nvr, repeat: 3, repeat_step: port, port: 3000}\n"
        "  - {id: ups, kind: ups, parent: core, trap_receivers: [], address: 127.5.9.9}\n",
    )
    by_id = fleet.by_id()
    assert [d.id for d in fleet.devices] == [
        "core", "acc-001", "acc-002", "cam-001", "cam-002", "cam-003", "ups"]  # fmt: skip
    assert [by_id[i].address for i in ("acc-001", "acc-002")] == ["127.5.1.1", "127.5.1.2"]
    assert [by_id[f"cam-00{n}"].port for n in (1, 2, 3)] == [3000, 3001, 3002]
    assert by_id["core"].role == "core" and by_id["acc-002"].role == "access"
    # access switches on the core's ports 1 and 2, their uplinks on their last port
    assert [(by_id[i].parent, by_id[i].parent_port) for i in ("acc-001", "acc-002")] == [
        ("core", 1), ("core", 2)]  # fmt: skip
    # NVRs spread round-robin over the access switches, from port 1
    assert [(by_id[f"cam-00{n}"].parent, by_id[f"cam-00{n}"].parent_port) for n in (1, 2, 3)] == [
        ("acc-001", 1), ("acc-002", 1), ("acc-001", 2)]  # fmt: skip
    assert (by_id["ups"].parent, by_id["ups"].parent_port) == ("core", 3)
    assert by_id["cam-001"].trap_receivers == (("127.0.0.1", 2162),)
    assert by_id["ups"].trap_receivers == ()
    assert by_id["cam-001"].interval == 60.0
    assert fleet.uplink_port(by_id["acc-001"]) == 8 and fleet.uplink_port(by_id["core"]) is None


def test_a_full_switch_leaves_children_without_a_port(tmp_path: Path) -> None:
    fleet = fleet_from(
        tmp_path,
        "defaults: {port: 2000}\n"
        "devices:\n"
        "  - {id: core, kind: switch, ports: 2, address: 127.0.0.1}\n"
        "  - {id: ups, kind: ups, repeat: 3, address: 127.0.0.2}\n",
    )
    ports = [device.parent_port for device in fleet.devices[1:]]
    assert ports == [1, 2, None]


def test_cross_reference_errors_name_the_line(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "defaults: {port: 2000}\n"
        "devices:\n"
        "  - {id: core, kind: switch, ports: 4}\n"
        "  - {id: ups, kind: ups, address: 127.0.0.2, parent: nowhere}\n"
        "  - {id: nvr, kind: nvr, address: 127.0.0.3, parent: ups}\n",
    )
    assert found == [
        "L4: device ups: parent 'nowhere' is not in the fleet",
        "L5: device nvr: parent ups is a ups, not a switch",
    ]
    found = problems(
        tmp_path,
        "defaults: {port: 2000}\n"
        "devices:\n"
        "  - {id: core, kind: switch, ports: 4}\n"
        "  - {id: ups, kind: ups, address: 127.0.0.2, parent: core, parent_port: 3}\n"
        "  - {id: nvr, kind: nvr, address: 127.0.0.3, parent: core, parent_port: 3}\n"
        "  - {id: pbx, kind: pbx, address: 127.0.0.4, parent: core, parent_port: 9}\n",
    )
    assert found == [
        "L5: device nvr: port 3 of core is taken by ups",
        "L6: device pbx: parent_port 9 > core's 4 ports",
    ]


def test_duplicates_and_missing_ports(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "devices:\n"
        "  - {id: a, kind: switch, port: 2000}\n"
        "  - {id: a, kind: ups, port: 2001}\n"
        "  - {id: b, kind: pbx, port: 2000}\n"
        "  - {id: c, kind: alarm_panel, port: 2000}\n",  # TCP: no clash with UDP 2000
    )
    assert found == [
        "L3: device a: id already used on line 2",
        "L4: device b: 127.0.0.1:2000 is already used by a (line 2)",
    ]
    assert problems(tmp_path, "devices:\n  - {id: a, kind: switch}\n") == [
        "L2: device a: port: required"]  # fmt: skip


def test_v3_user_keys_must_agree(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "defaults: {port: 2000}\n"
        "devices:\n"
        "  - {id: a, kind: switch, snmp: {v3: {user: u, auth_key: aaaaaaaa, priv_key: "
        "bbbbbbbb}}}\n"
        "  - {id: b, kind: ups, address: 127.0.0.2, snmp: {v3: {user: u, auth_key: cccccccc,"
        " priv_key: bbbbbbbb}}}\n",
    )
    assert len(found) == 1 and found[0].startswith("L4: device b: v3 user 'u' has other keys")


def test_schema_errors_name_device_field_and_line(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "control: nowhere\n"
        "devices:\n"
        "  - id: sw\n"
        "    kind: switch\n"
        "    port: 2000\n"
        "    model: nexus-9000\n"
        "  - id: Bad_Id\n"
        "    kind: toaster\n",
    )
    assert found[0] == "L1: control: Value error, 'nowhere' is not HOST:PORT"
    assert found[1].startswith("L6: device sw: model: Value error, unknown switch model")
    assert found[2].startswith("L8: device Bad_Id: kind: Input tag 'toaster' found")


def test_serial_panel_in_the_site_file(tmp_path: Path) -> None:
    fleet = fleet_from(
        tmp_path,
        "devices:\n"
        "  - {id: panel, kind: alarm_panel, modbus: {unit: 7, serial: {port: /dev/ttyS1}}}\n",
    )
    (entry,) = site_document(fleet)["devices"]
    assert entry == {
        "id": "panel", "kind": "alarm_panel", "profile": "alarm-panel-modbus",
        "address": "127.0.0.1", "modbus": {"unit": 7, "transport": "rtu", "serial": {
            "port": "/dev/ttyS1", "baudrate": 9600, "parity": "N", "stopbits": 1,
            "bytesize": 8}}, "interval": "30s",
    }  # fmt: skip
    assert fleet.devices[0].endpoint == "rtu:/dev/ttyS1"


def test_scenario_errors(tmp_path: Path) -> None:
    fleet = fleet_from(tmp_path, "devices:\n  - {id: sw, kind: switch, port: 2000, ports: 8}\n")
    models = {d.id: build_model(d, lambda: 0.0) for d in fleet.devices}
    path = tmp_path / "scenario.yaml"
    path.write_text(
        "repeat: true\n"
        "period: 10s\n"
        "steps:\n"
        "  - {at: 1s, device: sw, inject: port_down, set: {port: 9}}\n"
        "  - {at: 2s, device: nope, inject: down}\n"
        "  - {at: 3s, device: sw, clear: melt}\n"
        "  - {at: 4s, device: sw, inject: down, clear: down}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_scenario(path, models)
    assert [p.replace(f"{path}:", "L") for p in caught.value.problems] == [
        "L7: steps[3]: Value error, a step has exactly one of inject: or clear:"]  # fmt: skip
    path.write_text(
        path.read_text().replace("  - {at: 4s, device: sw, inject: down, clear: down}\n", "")
    )
    with pytest.raises(ConfigError) as caught:
        load_scenario(path, models)
    assert [p.replace(f"{path}:", "L") for p in caught.value.problems] == [
        "L4: steps[0]: fault port_down: port=9 is out of range (1..8 on sw)",
        "L5: steps[1]: no device 'nope'",
        "L6: steps[2]: sw (switch) has no fault 'melt'; known: down, restart, clock_skew, "
        "port_down, port_admin_down, port_errors, poe_fault, fan_failed, psu_failed, overheat",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30.0), ("5m", 300.0), ("4m10s", 250.0), ("250ms", 0.25),
                          ("1h", 3600.0), (12, 12.0), ("7", 7.0)],
)  # fmt: skip
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "-1s", "1m x", True])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_a_device_lists_every_protocol_it_is_served_over(tmp_path: Path) -> None:
    fleet = fleet_from(
        tmp_path,
        "devices:\n"
        "  - {id: nvr-1, kind: nvr, port: 1161, isapi: {port: 8080, password: a},"
        " dahua: {port: 8081, password: b}}\n"
        "  - {id: pbx-1, kind: pbx, port: 1162, ami: {port: 5038, secret: c}}\n"
        "  - {id: sw-1, kind: switch, port: 1163}\n",
    )
    nvr, pbx, switch = fleet.devices
    assert nvr.protocols == (
        ("snmp", "127.0.0.1:1161"), ("isapi", "127.0.0.1:8080"), ("dahua", "127.0.0.1:8081")
    )  # fmt: skip
    assert pbx.protocols == (("snmp", "127.0.0.1:1162"), ("ami", "127.0.0.1:5038"))
    assert switch.protocols == (("snmp", "127.0.0.1:1163"),)
    runtime = FleetRuntime(fleet)
    state = runtime.model("nvr-1").state()
    assert [p["name"] for p in state["protocols"]] == ["snmp", "isapi", "dahua"]
