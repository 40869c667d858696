"""The vendor environment MIBs of the simulated switches (CISCO-ENVMON-MIB and
CISCO-PROCESS-MIB, HH3C-ENTITY-EXT-MIB), read by net-snmp's snmpwalk as the referee
and by the gateway through the device's profile, before and after the switch's
faults: both read the same rows and values."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.simulators.conftest import SimFleet, free_port_on, gateway_readings, walk

pytestmark = pytest.mark.integration

HOST = "127.0.0.9"
ENVMON = "1.3.6.1.4.1.9.9.13.1"
CPM_TOTAL = "1.3.6.1.4.1.9.9.109.1.1.1.1"
MEMORY_POOL = "1.3.6.1.4.1.9.9.48.1.1.1"


@pytest.fixture(scope="module")
def vendors(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[SimFleet, Path, dict[str, str]]]:
    workdir = tmp_path_factory.mktemp("vendor-switches")
    ports = {"sw-cisco": free_port_on(HOST)}
    fleet = (
        "site: {id: vendors}\ndevices:\n"
        f"  - {{id: sw-cisco, kind: switch, model: cisco-c9200, address: {HOST},"
        f" port: {ports['sw-cisco']}, ports: 4, temperatures: 2, fans: 3, psus: 2}}\n"
    )
    site = workdir / "site.yaml"
    sim = SimFleet(workdir, fleet, ["--write-config", str(site)])
    sim.start(timeout=20)
    try:
        yield sim, site, {device: f"{HOST}:{port}" for device, port in ports.items()}
    finally:
        sim.stop()


def _cisco_referee(target: str) -> dict[str, object]:
    """The switch-cisco points as snmpwalk reads them, named as the profile names them."""
    columns = {
        f"{ENVMON}.3.1.2": "temperature.descr", f"{ENVMON}.3.1.3": "temperature.value",
        f"{ENVMON}.3.1.4": "temperature.threshold", f"{ENVMON}.3.1.6": "temperature.state",
        f"{ENVMON}.4.1.2": "fan.descr", f"{ENVMON}.4.1.3": "fan.state",
        f"{ENVMON}.5.1.2": "power.descr", f"{ENVMON}.5.1.3": "power.state",
        f"{ENVMON}.5.1.4": "power.source", f"{CPM_TOTAL}.2": "cpu.physical_index",
        f"{CPM_TOTAL}.7": "cpu.load_1min", f"{CPM_TOTAL}.8": "cpu.load_5min",
        f"{MEMORY_POOL}.2": "memory.name", f"{MEMORY_POOL}.5": "memory.used",
        f"{MEMORY_POOL}.6": "memory.free",
    }  # fmt: skip
    found: dict[str, object] = {}
    for base in (ENVMON, CPM_TOTAL, MEMORY_POOL):
        for oid, value in walk(target, base).items():
            column, _, instance = oid.rpartition(".")
            if column in columns:
                found[f"{columns[column]}/{instance}"] = (
                    value.strip('"') if value.startswith('"') else int(value)
                )
    return found


STATE = {1: "normal", 2: "warning", 3: "critical", 4: "shutdown", 5: "not_present",
         6: "not_functioning"}  # fmt: skip
SOURCE = {1: "unknown", 2: "ac", 3: "dc", 4: "external_power_supply", 5: "internal_redundant"}


def _decoded(referee: dict[str, object]) -> dict[str, object]:
    """Enumerations by the names CISCO-ENVMON-MIB gives them."""
    out = dict(referee)
    for key, value in referee.items():
        if key.split("/")[0].endswith(".state"):
            out[key] = STATE[value]  # type: ignore[index]
        elif key.startswith("power.source/"):
            out[key] = SOURCE[value]  # type: ignore[index]
    return out


def _ours(site: Path, device: str, tables: tuple[str, ...]) -> dict[str, object]:
    return {
        key: value
        for key, value in gateway_readings(site, device).items()
        if key.split(".")[0] in tables
    }


CISCO_TABLES = ("temperature", "fan", "power", "cpu", "memory")


def test_cisco_environment_as_snmpwalk_reads_it(
    vendors: tuple[SimFleet, Path, dict[str, str]],
) -> None:
    sim, site, targets = vendors
    referee = _cisco_referee(targets["sw-cisco"])
    assert referee["fan.state/3"] == 1 and referee["power.state/2"] == 1
    assert referee["temperature.state/1"] == 1 and referee["temperature.threshold/1"] == 90
    assert referee["memory.name/1"] == "Processor" and referee["cpu.load_1min/1"] == 9
    ours = _ours(site, "sw-cisco", CISCO_TABLES)
    # A healthy temperature drifts by a degree over minutes: within 1 C of snmpwalk's.
    moving = {k for k in referee if k.startswith("temperature.value/")}
    assert moving == {"temperature.value/1", "temperature.value/2"}
    for key in moving:
        assert abs(ours.pop(key) - referee[key]) <= 1, key  # type: ignore[operator]
    assert ours == {k: v for k, v in _decoded(referee).items() if k not in moving}

    sim.client.inject("sw-cisco", "fan_failed", {"fan": "2"})
    sim.client.inject("sw-cisco", "psu_failed", {"psu": "1"})
    sim.client.inject("sw-cisco", "overheat", {"sensor": "2", "celsius": "83"})
    try:
        referee = _cisco_referee(targets["sw-cisco"])
        ours = _ours(site, "sw-cisco", CISCO_TABLES)
    finally:
        sim.client.clear("sw-cisco", None, {})
    assert (referee["fan.state/2"], referee["fan.state/1"]) == (3, 1)  # critical, normal
    assert (referee["power.state/1"], referee["power.state/2"]) == (3, 1)
    assert (referee["temperature.value/2"], referee["temperature.state/2"]) == (83, 3)
    assert (ours["fan.state/2"], ours["power.state/1"]) == ("critical", "critical")
    assert (ours["temperature.value/2"], ours["temperature.state/2"]) == (83, "critical")
    assert ours["fan.descr/2"] == referee["fan.descr/2"] == "Fan 2"
