"""The vendor environment MIBs of the simulated switches (CISCO-ENVMON-MIB and
CISCO-PROCESS-MIB, HH3C-ENTITY-EXT-MIB, HUAWEI-ENTITY-EXTENT-MIB), read by net-snmp's snmpwalk as the referee
and by the gateway through the device's profile, before and after the switch's
faults: both read the same rows and values."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.simulators.conftest import (
    SimFleet,
    fleet_with_site,
    free_port_on,
    gateway_readings,
    walk,
)

pytestmark = pytest.mark.integration

HOST = "127.0.0.9"
ENVMON = "1.3.6.1.4.1.9.9.13.1"
CPM_TOTAL = "1.3.6.1.4.1.9.9.109.1.1.1.1"
MEMORY_POOL = "1.3.6.1.4.1.9.9.48.1.1.1"
HH3C_STATE = "1.3.6.1.4.1.25506.2.6.1.1.1.1"
ENT_PHYSICAL = "1.3.6.1.2.1.47.1.1.1.1"
HW_STATE = "1.3.6.1.4.1.2011.5.25.31.1.1"  # HUAWEI-ENTITY-EXTENT-MIB hwEntityState


@pytest.fixture(scope="module")
def vendors(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[SimFleet, Path, dict[str, str]]]:
    workdir = tmp_path_factory.mktemp("vendor-switches")
    ports = {device: free_port_on(HOST) for device in ("sw-cisco", "sw-h3c", "sw-huawei")}
    fleet = (
        "site: {id: vendors}\ndevices:\n"
        f"  - {{id: sw-cisco, kind: switch, model: cisco-c9200, address: {HOST},"
        f" port: {ports['sw-cisco']}, ports: 4, temperatures: 2, fans: 3, psus: 2}}\n"
        f"  - {{id: sw-h3c, kind: switch, model: h3c-s5500, address: {HOST},"
        f" port: {ports['sw-h3c']}, ports: 4, temperatures: 2, fans: 2, psus: 2}}\n"
        f"  - {{id: sw-huawei, kind: switch, model: huawei-s5735, address: {HOST},"
        f" port: {ports['sw-huawei']}, ports: 4, temperatures: 1, fans: 2, psus: 2}}\n"
    )
    with fleet_with_site(workdir, fleet) as (sim, site):
        yield sim, site, {device: f"{HOST}:{port}" for device, port in ports.items()}


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
    return _referee(target, (ENVMON, CPM_TOTAL, MEMORY_POOL), columns)


def _referee(target: str, bases: tuple[str, ...], columns: dict[str, str]) -> dict[str, object]:
    """snmpwalk's values of ``columns`` (column OID -> point), as ``point/instance``."""
    found: dict[str, object] = {}
    for base in bases:
        for oid, value in walk(target, base).items():
            column, _, instance = oid.rpartition(".")
            if column in columns:
                found[f"{columns[column]}/{instance}"] = (
                    value.strip('"') if value.startswith('"') else int(value)
                )
    return found


def _assert_same(ours: dict[str, object], referee: dict[str, object], moving: str) -> None:
    """Every value alike, but temperatures (``moving``), which drift by a degree over
    minutes: within 1 C of snmpwalk's."""
    drifting = {k for k in referee if k.startswith(moving)}
    assert drifting
    for key in drifting:
        assert abs(ours.pop(key) - referee[key]) <= 1, key  # type: ignore[operator]
    assert ours == {k: v for k, v in referee.items() if k not in drifting}


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
    _assert_same(_ours(site, "sw-cisco", CISCO_TABLES), _decoded(referee), "temperature.value/")

    with sim.faulted(
        "sw-cisco",
        ("fan_failed", {"fan": "2"}),
        ("psu_failed", {"psu": "1"}),
        ("overheat", {"sensor": "2", "celsius": "83"}),
    ):
        referee = _cisco_referee(targets["sw-cisco"])
        ours = _ours(site, "sw-cisco", CISCO_TABLES)
    assert (referee["fan.state/2"], referee["fan.state/1"]) == (3, 1)  # critical, normal
    assert (referee["power.state/1"], referee["power.state/2"]) == (3, 1)
    assert (referee["temperature.value/2"], referee["temperature.state/2"]) == (83, 3)
    assert (ours["fan.state/2"], ours["power.state/1"]) == ("critical", "critical")
    assert (ours["temperature.value/2"], ours["temperature.state/2"]) == (83, "critical")
    assert ours["fan.descr/2"] == referee["fan.descr/2"] == "Fan 2"


H3C_COLUMNS = {
    f"{ENT_PHYSICAL}.7": "entity.name", f"{ENT_PHYSICAL}.5": "entity.class",
    f"{HH3C_STATE}.3": "entity.oper_status", f"{HH3C_STATE}.6": "entity.cpu_usage",
    f"{HH3C_STATE}.7": "entity.cpu_threshold", f"{HH3C_STATE}.8": "entity.mem_usage",
    f"{HH3C_STATE}.9": "entity.mem_threshold", f"{HH3C_STATE}.12": "entity.temperature",
    f"{HH3C_STATE}.13": "entity.temperature_threshold", f"{HH3C_STATE}.19": "entity.error_status",
}  # fmt: skip
CLASS = {3: "chassis", 6: "power_supply", 7: "fan", 8: "sensor"}
H3C_ERROR = {1: "not_supported", 2: "normal", 41: "fan_error", 51: "psu_error"}


def _h3c_referee(target: str) -> dict[str, object]:
    return _referee(target, (f"{ENT_PHYSICAL}.5", f"{ENT_PHYSICAL}.7", HH3C_STATE), H3C_COLUMNS)


def _h3c_decoded(referee: dict[str, object]) -> dict[str, object]:
    out = dict(referee)
    for key, value in referee.items():
        point = key.split("/")[0]
        if point == "entity.class":
            out[key] = CLASS[value]  # type: ignore[index]
        elif point == "entity.error_status":
            out[key] = H3C_ERROR[value]  # type: ignore[index]
        elif point == "entity.oper_status":
            out[key] = {3: "enabled"}[value]  # type: ignore[index]
    return out


def test_h3c_entity_state_as_snmpwalk_reads_it(
    vendors: tuple[SimFleet, Path, dict[str, str]],
) -> None:
    sim, site, targets = vendors
    referee = _h3c_referee(targets["sw-h3c"])
    # the chassis carries the CPU and memory, the sensors the temperatures
    assert (referee["entity.cpu_usage/1"], referee["entity.cpu_threshold/1"]) == (11, 80)
    assert referee["entity.temperature_threshold/11"] == 70
    assert referee["entity.temperature_threshold/21"] == 0  # a fan has no sensor
    assert referee["entity.error_status/22"] == referee["entity.error_status/31"] == 2
    _assert_same(_ours(site, "sw-h3c", ("entity",)), _h3c_decoded(referee), "entity.temperature/")

    with sim.faulted(
        "sw-h3c",
        ("fan_failed", {"fan": "2"}),
        ("psu_failed", {"psu": "1"}),
        ("overheat", {"sensor": "1", "celsius": "77"}),
    ):
        referee = _h3c_referee(targets["sw-h3c"])
        ours = _ours(site, "sw-h3c", ("entity",))
    assert (referee["entity.error_status/22"], referee["entity.error_status/21"]) == (41, 2)
    assert (referee["entity.error_status/31"], referee["entity.error_status/32"]) == (51, 2)
    assert referee["entity.temperature/11"] == ours["entity.temperature/11"] == 77
    assert (ours["entity.error_status/22"], ours["entity.class/22"]) == ("fan_error", "fan")
    assert (ours["entity.error_status/31"], ours["entity.class/31"]) == (
        "psu_error",
        "power_supply",
    )


HUAWEI_COLUMNS = {
    f"{ENT_PHYSICAL}.7": "entity.name", f"{HW_STATE}.1.1.2": "entity.oper_status",
    f"{HW_STATE}.1.1.5": "entity.cpu_usage", f"{HW_STATE}.1.1.6": "entity.cpu_threshold",
    f"{HW_STATE}.1.1.7": "entity.mem_usage", f"{HW_STATE}.1.1.11": "entity.temperature",
    f"{HW_STATE}.1.1.12": "entity.temperature_threshold",
    f"{HW_STATE}.10.1.6": "fan.present", f"{HW_STATE}.10.1.7": "fan.state",
    f"{HW_STATE}.18.1.5": "power.present", f"{HW_STATE}.18.1.6": "power.state",
}  # fmt: skip
HUAWEI_STATES = {
    "entity.oper_status": {3: "enabled"}, "fan.present": {1: "present", 2: "absent"},
    "fan.state": {1: "normal", 2: "abnormal"}, "power.present": {1: "present", 2: "absent"},
    "power.state": {1: "supply", 2: "not_supply", 3: "sleep", 4: "unknown"},
}  # fmt: skip


def _huawei_referee(target: str) -> dict[str, object]:
    """hwFanStatusTable and hwPwrStatusTable are indexed by slot and number: the
    instance is the two last arcs."""
    found = _referee(target, (f"{ENT_PHYSICAL}.7", f"{HW_STATE}.1.1"), HUAWEI_COLUMNS)
    for base in (f"{HW_STATE}.10.1", f"{HW_STATE}.18.1"):
        for oid, value in walk(target, base).items():
            arcs = oid.split(".")
            column, instance = ".".join(arcs[:-2]), ".".join(arcs[-2:])
            if column in HUAWEI_COLUMNS:
                found[f"{HUAWEI_COLUMNS[column]}/{instance}"] = int(value)
    return found


def _huawei_decoded(referee: dict[str, object]) -> dict[str, object]:
    out = dict(referee)
    for key, value in referee.items():
        states = HUAWEI_STATES.get(key.split("/")[0])
        if states is not None:
            out[key] = states[value]  # type: ignore[index]
    return out


HUAWEI_TABLES = ("entity", "fan", "power")


def test_huawei_entity_extent_as_snmpwalk_reads_it(
    vendors: tuple[SimFleet, Path, dict[str, str]],
) -> None:
    sim, site, targets = vendors
    referee = _huawei_referee(targets["sw-huawei"])
    assert referee["fan.state/0.1"] == referee["power.state/0.2"] == 1
    _assert_same(
        _ours(site, "sw-huawei", HUAWEI_TABLES), _huawei_decoded(referee), "entity.temperature/"
    )

    with sim.faulted("sw-huawei", ("fan_failed", {"fan": "2"}), ("psu_failed", {"psu": "1"})):
        referee = _huawei_referee(targets["sw-huawei"])
        ours = _ours(site, "sw-huawei", HUAWEI_TABLES)
    assert (referee["fan.state/0.2"], referee["power.state/0.1"]) == (2, 2)
    assert (ours["fan.state/0.2"], ours["power.state/0.1"]) == ("abnormal", "not_supply")
    assert (ours["fan.state/0.1"], ours["power.state/0.2"]) == ("normal", "supply")
