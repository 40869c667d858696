"""Profiles that name SNMP objects as MODULE::name: resolved once as they load, from the
MIBs lvgw ships and those a site compiles; a name that does not resolve is a problem at
its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, load_config
from gateway.config.profile import Profile
from gateway.config.protocols.snmp import snmp_point
from gateway.mibs.store import SHIPPED_DIR, MibLibrary, UnknownName

SITE = """\
site: {id: s, name: S, customer: {name: C}, contract: {type: annual}}
uplink: {mqtt: {host: 127.0.0.1}}
AGENT
devices:
  - {id: a, kind: ups, profile: named, address: 10.0.0.1}
"""

PROFILE = """\
description: a UPS named from UPS-MIB and IF-MIB
kinds: [ups]
protocol: snmp
points:
  sys.name: {oid: SNMPv2-MIB::sysName.0, type: text}
  battery: {oid: UPS-MIB::upsBatteryStatus.0, states: {1: unknown, 2: normal, 3: low, 4: depleted}}
tables:
  ports:
    instance: port
    columns:
      oper: {oid: IF-MIB::ifOperStatus}
      octets_in: {oid: IF-MIB::ifHCInOctets, type: counter64}
traps:
  on_battery:
    oid: UPS-MIB::upsTrapOnBattery
    values: {minutes: UPS-MIB::upsEstimatedMinutesRemaining, raw: 1.3.6.1.2.1.33.1.2.2}
  link_down: {oid: IF-MIB::linkDown, instance_from: IF-MIB::ifIndex}
"""


def site(tmp_path: Path, profile: str = PROFILE, agent: str = "") -> Path:
    (tmp_path / "profiles").mkdir(exist_ok=True)
    (tmp_path / "profiles" / "named.yaml").write_text(profile)
    path = tmp_path / "site.yaml"
    path.write_text(SITE.replace("AGENT", agent))
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return [str(p) for p in info.value.problems]


def test_names_in_points_columns_and_traps_load_as_their_numeric_oids(tmp_path: Path) -> None:
    profile: Profile = load_config(site(tmp_path)).profiles["named"]
    # RFC 3418 sysName (system 5), RFC 1628 upsBatteryStatus (upsBattery 1),
    # RFC 2863 ifOperStatus (ifEntry 8) and ifHCInOctets (ifXEntry 6).
    assert snmp_point(profile.points["sys.name"]).oid == "1.3.6.1.2.1.1.5.0"
    assert snmp_point(profile.points["battery"]).oid == "1.3.6.1.2.1.33.1.2.1.0"
    columns = profile.tables["ports"].columns
    assert snmp_point(columns["oper"]).oid == "1.3.6.1.2.1.2.2.1.8"
    assert snmp_point(columns["octets_in"]).oid == "1.3.6.1.2.1.31.1.1.1.6"
    on_battery = profile.traps["on_battery"]
    assert on_battery.oid == "1.3.6.1.2.1.33.2.1"
    assert on_battery.values == {"minutes": "1.3.6.1.2.1.33.1.2.3", "raw": "1.3.6.1.2.1.33.1.2.2"}
    # linkDown is snmpTraps 3 (RFC 3418 / RFC 2863), not under IF-MIB's own subtree.
    assert profile.traps["link_down"].oid == "1.3.6.1.6.3.1.1.5.3"
    assert profile.traps["link_down"].instance_from == "1.3.6.1.2.1.2.2.1.1"


def test_an_unknown_object_is_a_problem_at_its_line_naming_module_and_dirs(tmp_path: Path) -> None:
    path = site(
        tmp_path, PROFILE.replace("UPS-MIB::upsBatteryStatus.0", "UPS-MIB::upsBatteryStat.0")
    )
    named = tmp_path / "profiles" / "named.yaml"
    assert problems_of(path) == [
        f"{named}:6: field 'points.battery.oid': UPS-MIB::upsBatteryStat.0: MIB module UPS-MIB"
        f" defines no object upsBatteryStat (looked in {tmp_path / 'mibs'}, {SHIPPED_DIR})"
    ]


def test_an_unknown_module_says_where_it_looked_and_how_to_compile_it(tmp_path: Path) -> None:
    profile = PROFILE.replace("IF-MIB::ifOperStatus", "ACME-MIB::acmePortState")
    path = site(tmp_path, profile, agent="agent: {mib_dirs: [vendor]}")
    named = tmp_path / "profiles" / "named.yaml"
    looked = f"{tmp_path / 'vendor'}, {tmp_path / 'mibs'}, {SHIPPED_DIR}"
    assert problems_of(path) == [
        f"{named}:11: field 'tables.ports.columns.oper.oid': ACME-MIB::acmePortState: no"
        f" compiled MIB module ACME-MIB (looked in {looked}; compile it with lvgw mib compile)"
    ]


def test_every_unresolved_name_is_reported_once(tmp_path: Path) -> None:
    profile = PROFILE.replace("UPS-MIB::upsTrapOnBattery", "UPS-MIB::nope").replace(
        "IF-MIB::ifIndex", "IF-MIB::ifIndexx"
    )
    problems = problems_of(site(tmp_path, profile))
    assert [p.split(": field ")[1].split(":")[0] for p in problems] == [
        "'traps.on_battery.oid'",
        "'traps.link_down.instance_from'",
    ]


def test_a_module_compiled_for_the_site_is_found_in_its_mib_dirs(tmp_path: Path) -> None:
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    (vendor / "ACME-MIB.json").write_text(
        '{"acmeBattery": {"class": "objecttype", "oid": "1.3.6.1.4.1.99999.1"}}'
    )
    profile = PROFILE.replace("UPS-MIB::upsBatteryStatus.0", "ACME-MIB::acmeBattery.0")
    loaded = load_config(site(tmp_path, profile, agent="agent: {mib_dirs: [vendor]}"))
    assert snmp_point(loaded.profiles["named"].points["battery"]).oid == "1.3.6.1.4.1.99999.1.0"


def test_a_broken_compiled_module_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "mibs").mkdir()
    (tmp_path / "mibs" / "UPS-MIB.json").write_text('{"upsBatteryStatus": ')
    problems = problems_of(site(tmp_path))
    named = tmp_path / "profiles" / "named.yaml"
    # Every name from the broken module, at its own line (points 6, traps 15 and 16).
    assert [p.split(": field")[0] for p in problems] == [f"{named}:{n}" for n in (6, 15, 16)]
    broken = tmp_path / "mibs" / "UPS-MIB.json"
    assert all(f"compiled MIB {broken} is not JSON" in p for p in problems)


@pytest.mark.parametrize(
    "text",
    ["IF-MIB::", "IF-MIB::ifOperStatus.", "IF-MIB::ifOperStatus.01", "::ifOperStatus", "A::b::c"],
)
def test_a_malformed_name_is_refused(text: str) -> None:
    with pytest.raises(UnknownName, match="neither a numeric OID nor MODULE::name"):
        MibLibrary.over([]).resolve(text)


def test_a_name_that_is_not_an_object_is_refused() -> None:
    # DisplayString is a textual convention: it has no OID.
    with pytest.raises(UnknownName, match="defines no object DisplayString"):
        MibLibrary.over([]).resolve("SNMPv2-TC::DisplayString")
