"""Profiles' match rules: the schema (FILE:LINE problems) and which profile wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.load import BUILTIN_PROFILES, load_profile
from gateway.config.profile import Profile
from gateway.discover.classify import Chosen, Identity, Unclassified, answer_oids, classify
from gateway.discover.profiles import shipped_profiles

NET_SNMP_LINUX = "1.3.6.1.4.1.8072.3.2.10"  # NET-SNMP-TC netSnmpAgentOIDs.linux
BRIDGE_PORTS = "1.3.6.1.2.1.17.1.2.0"
BRIDGED = frozenset({BRIDGE_PORTS})


def profile(tmp_path: Path, name: str, text: str) -> tuple[Profile | None, list[str]]:
    (tmp_path / f"{name}.yaml").write_text(text)
    loaded, problems = load_profile(name, [tmp_path])
    return loaded, [str(p) for p in problems]


HEAD = "description: x\nkinds: [switch]\nprotocol: snmp\n"


def test_a_vendor_prefix_beats_a_generic_rule_and_a_product_beats_its_vendor(
    tmp_path: Path,
) -> None:
    rules = {
        "generic": "match:\n  - answers: [1.3.6.1.2.1.17.1.2.0]\n",
        "vendor": "match:\n  - sys_object_id: 1.3.6.1.4.1.2011\n",
        "product": "match:\n  - {sys_object_id: 1.3.6.1.4.1.2011.2.23, sys_descr: 'S57\\d\\d'}\n",
    }
    profiles = {}
    for name, text in rules.items():
        loaded, problems = profile(tmp_path, name, HEAD + text)
        assert problems == [] and loaded is not None
        profiles[name] = loaded
    huawei = ("1.3.6.1.4.1.2011.2.23.664", "S5735-L24P4S-A1 VRP")
    answering = Identity(*huawei, "sw", frozenset({BRIDGE_PORTS}))
    other = Identity("1.3.6.1.4.1.2011.2.62.1", "AR6120 router", "r", frozenset({BRIDGE_PORTS}))
    assert isinstance(chosen := classify(profiles, answering), Chosen)
    assert (chosen.profile, chosen.kind) == ("product", "switch")
    assert "sysObjectID under 1.3.6.1.4.1.2011.2.23" in chosen.why
    assert isinstance(chosen := classify(profiles, other), Chosen) and chosen.profile == "vendor"
    generic = Identity("1.3.6.1.4.1.9.1.2896", "Cisco IOS", "c", frozenset({BRIDGE_PORTS}))
    assert isinstance(chosen := classify(profiles, generic), Chosen) and chosen.profile == "generic"
    mute = Identity("1.3.6.1.4.1.9.1.2896", "Cisco IOS", "c", frozenset())
    assert isinstance(classify(profiles, mute), Unclassified)


def test_a_tie_between_profiles_is_not_guessed(tmp_path: Path) -> None:
    a, _ = profile(tmp_path, "a", HEAD + "match:\n  - sys_object_id: 1.3.6.1.4.1.9\n")
    b, _ = profile(tmp_path, "b", HEAD + "match:\n  - sys_object_id: 1.3.6.1.4.1.9\n")
    assert a is not None and b is not None
    result = classify({"a": a, "b": b}, Identity("1.3.6.1.4.1.9.1.5", "", "x"))
    assert isinstance(result, Unclassified) and "a, b" in result.reason


def test_a_prefix_matches_whole_arcs_only(tmp_path: Path) -> None:
    a, _ = profile(tmp_path, "a", HEAD + "match:\n  - sys_object_id: 1.3.6.1.4.1.9\n")
    assert a is not None
    assert isinstance(classify({"a": a}, Identity("1.3.6.1.4.1.99.1", "", "x")), Unclassified)
    assert isinstance(classify({"a": a}, Identity("1.3.6.1.4.1.9", "", "x")), Chosen)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("match:\n  - sys_object_id: enterprises.9\n", ":5: field 'match.0.sys_object_id': not a numeric OID"),
        ("match:\n  - sys_descr: 'Cisco (IOS'\n", ":5: field 'match.0.sys_descr': not a regular expression"),
        ("match:\n  - {why: nothing}\n", ":5: field 'match.0': a match rule needs sys_object_id, sys_descr, answers, isapi_device_type or ami_version"),
        ("match:\n  - {answers: [1.3.6.1.2.1.33.1.1.1.0], kind: ups}\n", ":5: match rule: kind ups is not one of the profile's (switch)"),
        ("match:\n  - {answers: [1.3.6.1.2.1.1.1.0], colour: red}\n", ":5: field 'match.0.colour': unknown key"),
    ],
)  # fmt: skip
def test_a_bad_match_rule_is_reported_at_its_line(tmp_path: Path, text: str, expected: str) -> None:
    loaded, problems = profile(tmp_path, "bad", HEAD + text)
    assert loaded is None
    assert len(problems) == 1 and problems[0].startswith(str(tmp_path / "bad.yaml"))
    assert expected in problems[0], problems[0]


def test_a_profile_for_several_kinds_names_the_kind_of_each_rule(tmp_path: Path) -> None:
    text = "description: x\nkinds: [switch, ups]\nprotocol: snmp\nmatch:\n  - sys_descr: X\n"
    _, problems = profile(tmp_path, "two", text)
    assert problems == [
        f"{tmp_path / 'two.yaml'}:5: match rule: the profile is for switch, ups: give kind"
    ]


def test_shipped_profiles_recognise_the_standard_mibs_and_leave_a_plain_host() -> None:
    profiles = shipped_profiles([BUILTIN_PROFILES])
    assert answer_oids(profiles) == sorted(answer_oids(profiles))

    def chosen(answered: str, object_id: str = NET_SNMP_LINUX) -> str:
        result = classify(profiles, Identity(object_id, "Linux", "x", frozenset({answered})))
        assert isinstance(result, Chosen), result
        return f"{result.kind}/{result.profile}"

    assert chosen(BRIDGE_PORTS) == "switch/switch-generic"
    # A Cisco product (CISCO-SMI ciscoProducts) with a bridge is read over Cisco's MIBs.
    assert chosen(BRIDGE_PORTS, "1.3.6.1.4.1.9.1.716") == "switch/switch-cisco"
    assert chosen("1.3.6.1.4.1.50001.1.100.0", "1.3.6.1.4.1.50001.1") == "nvr/nvr-hikvision"
    assert chosen("1.3.6.1.4.1.22736.1.1.1.0") == "pbx/pbx-asterisk"
    assert chosen("1.3.6.1.4.1.6574.1.5.1.0") == "nvr/nvr-synology"  # SYNOLOGY-SYSTEM-MIB
    assert chosen("1.3.6.1.4.1.27880.1.1.1.0") == "pbx/pbx-freeswitch"  # FREESWITCH-MIB
    assert chosen("1.3.6.1.2.1.33.1.1.1.0") == "ups/ups-rfc1628"
    plain = classify(profiles, Identity(NET_SNMP_LINUX, "Linux host 6.1", "host"))
    assert isinstance(plain, Unclassified)


def test_match_rules_may_name_objects_from_compiled_mibs(tmp_path: Path) -> None:
    text = (
        "description: x\nkinds: [ups]\nprotocol: snmp\nmatch:\n"
        "  - {sys_object_id: UPS-MIB::upsMIB, answers: [UPS-MIB::upsIdentManufacturer.0]}\n"
    )
    loaded, problems = profile(tmp_path, "named", text)
    assert problems == [] and loaded is not None
    rule = loaded.match[0]
    assert (rule.sys_object_id, rule.answers) == ("1.3.6.1.2.1.33", ["1.3.6.1.2.1.33.1.1.1.0"])
    _, problems = profile(tmp_path, "unknown", text.replace("upsIdentManufacturer", "upsNoSuch"))
    assert (
        len(problems) == 1 and ":5: field 'match.0.answers.0': UPS-MIB::upsNoSuch.0" in problems[0]
    )


def test_an_apc_ups_is_read_over_powernet_even_when_it_answers_the_ups_mib_too() -> None:
    """PowerNet-MIB 4.5.2's smartUPS3000 sysObjectID beats ups-rfc1628's UPS-MIB rule."""
    profiles = shipped_profiles([BUILTIN_PROFILES])
    answers = frozenset({"1.3.6.1.2.1.33.1.1.1.0"})
    apc = classify(profiles, Identity("1.3.6.1.4.1.318.1.3.2.12", "APC", "ups", answers))
    assert isinstance(apc, Chosen), apc
    assert (apc.kind, apc.profile) == ("ups", "ups-apc-powernet")
    # another of the vendor's branches (PowerNet-MIB rPDU, hardware 12) is not a UPS family
    pdu = classify(profiles, Identity("1.3.6.1.4.1.318.1.1.12", "APC PDU", "pdu"))
    assert isinstance(pdu, Unclassified)


def test_a_cisco_switch_is_read_over_cisco_mibs_and_a_cisco_router_is_not() -> None:
    profiles = shipped_profiles([BUILTIN_PROFILES])
    switch = Identity("1.3.6.1.4.1.9.1.716", "Cisco IOS Software, C2960", "sw", BRIDGED)
    assert isinstance(chosen := classify(profiles, switch), Chosen), chosen
    assert (chosen.kind, chosen.profile) == ("switch", "switch-cisco")
    by_descr = Identity(NET_SNMP_LINUX, "Cisco IOS Software, C2960", "sw", BRIDGED)
    assert isinstance(chosen := classify(profiles, by_descr), Chosen), chosen
    assert chosen.profile == "switch-cisco"
    router = Identity("1.3.6.1.4.1.9.1.1", "Cisco IOS Software, 1941", "r", frozenset())
    assert not (
        isinstance(chosen := classify(profiles, router), Chosen) and chosen.kind == "switch"
    )


def test_an_h3c_switch_is_read_over_hh3c_entity_ext_mib_and_an_h3c_router_is_not() -> None:
    profiles = shipped_profiles([BUILTIN_PROFILES])
    # HH3C-PRODUCT-ID-MIB: hh3c-s5500-28C-PWR-EI is 3, hh3c-msr30-20 (a router) is 73.
    switch = Identity("1.3.6.1.4.1.25506.1.3", "H3C Comware Platform Software", "sw", BRIDGED)
    assert isinstance(chosen := classify(profiles, switch), Chosen), chosen
    assert (chosen.kind, chosen.profile) == ("switch", "switch-h3c")
    router = Identity("1.3.6.1.4.1.25506.1.73", "H3C Comware Platform Software", "r", frozenset())
    assert not (
        isinstance(chosen := classify(profiles, router), Chosen) and chosen.kind == "switch"
    )
