"""lvgw mib draft-profile: a profile drafted from a compiled MIB loads as it is."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gateway.config import load_config
from gateway.config.profile import Profile
from gateway.config.protocols.snmp import snmp_point
from gateway.mibs.draft import draft_profile, snake
from gateway.mibs.store import MibLibrary

SITE = """\
site: {id: s, name: S, customer: {name: C}, contract: {type: annual}}
uplink: {mqtt: {host: 127.0.0.1}}
devices:
  - {id: a, kind: KIND, profile: drafted, address: 10.0.0.1}
"""


def load_draft(tmp_path: Path, module: str, kind: str) -> Profile:
    (tmp_path / "profiles").mkdir()
    text = draft_profile(MibLibrary.over([]), module, kind)
    (tmp_path / "profiles" / "drafted.yaml").write_text(text)
    (tmp_path / "site.yaml").write_text(SITE.replace("KIND", kind))
    return load_config(tmp_path / "site.yaml").profiles["drafted"]


@pytest.mark.parametrize(
    ("module", "kind"),
    [
        ("UPS-MIB", "ups"),
        ("IF-MIB", "switch"),
        ("HOST-RESOURCES-MIB", "nvr"),
        ("ENTITY-MIB", "switch"),
    ],
)
def test_a_draft_of_each_shipped_module_passes_check_config(
    tmp_path: Path, module: str, kind: str
) -> None:
    profile = load_draft(tmp_path, module, kind)
    assert profile.points or profile.tables


def test_the_ups_draft_has_scalars_tables_with_indexes_states_and_traps(tmp_path: Path) -> None:
    profile = load_draft(tmp_path, "UPS-MIB", "ups")
    text = (tmp_path / "profiles" / "drafted.yaml").read_text()
    # RFC 1628: upsBatteryStatus (upsBattery 1) is an enumeration; the draft names its
    # codes as the MIB does.
    battery = profile.points["ups_battery_status"]
    assert snmp_point(battery).oid == "1.3.6.1.2.1.33.1.2.1.0"
    assert battery.type == "int"
    assert battery.states == {
        1: "unknown",
        2: "batteryNormal",
        3: "batteryLow",
        4: "batteryDepleted",
    }
    assert "ups_battery_status: {oid: UPS-MIB::upsBatteryStatus.0," in text
    # upsInputTable, indexed by upsInputLineIndex (not itself a column of the draft).
    inputs = profile.tables["ups_input"]
    assert inputs.instance == "ups_input_line_index"
    assert snmp_point(inputs.columns["voltage"]).oid == "1.3.6.1.2.1.33.1.3.3.1.3"
    assert "line_index" not in inputs.columns
    assert "# upsInputTable, one row per upsInputLineIndex" in text
    # upsEstimatedMinutesRemaining has UNITS "minutes"; upsSecondsOnBattery is NonNegativeInteger.
    assert profile.points["ups_estimated_minutes_remaining"].unit == "minutes"
    # Traps: upsTrapOnBattery with its objects as values.
    on_battery = profile.traps["ups_trap_on_battery"]
    assert on_battery.oid == "1.3.6.1.2.1.33.2.1"
    assert on_battery.values["ups_estimated_minutes_remaining"] == "1.3.6.1.2.1.33.1.2.3"


def test_textual_conventions_give_the_type_and_the_states(tmp_path: Path) -> None:
    profile = load_draft(tmp_path, "IF-MIB", "switch")
    columns = {**profile.tables["if"].columns, **profile.tables["if_x"].columns}
    # ifPromiscuousMode is a TruthValue (SNMPv2-TC): an INTEGER enumeration.
    assert columns["if_promiscuous_mode"].states == {1: "true", 2: "false"}
    # ifAlias is a DisplayString (an OCTET STRING), ifLastChange TimeTicks.
    assert columns["if_alias"].type == "text"
    assert columns["last_change"].type == "timeticks"
    assert columns["last_change"].unit == "s"
    # ifXTable AUGMENTS ifEntry: its rows are ifEntry's, by ifIndex.
    assert profile.tables["if_x"].instance == "if_index"
    assert columns["if_hc_in_octets"].type == "counter64"


def test_the_draft_is_yaml_whose_states_stay_text(tmp_path: Path) -> None:
    # TruthValue's labels are `true` and `false`: quoted, or YAML would read booleans.
    data = yaml.safe_load(draft_profile(MibLibrary.over([]), "IF-MIB", "switch"))
    assert data["tables"]["if_x"]["columns"]["if_promiscuous_mode"]["states"] == {
        1: "true",
        2: "false",
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [("ifHCInOctets", "if_hc_in_octets"), ("upsBatteryStatus", "ups_battery_status"),
     ("memAvailRealTXT", "mem_avail_real_txt"), ("hrSWRunPerfCPU", "hr_sw_run_perf_cpu"),
     ("entPhysicalIsFRU", "ent_physical_is_fru")],
)  # fmt: skip
def test_point_names_are_snake_case(name: str, expected: str) -> None:
    assert snake(name) == expected
