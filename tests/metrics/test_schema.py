"""The metric schema: readings -> line protocol (docs/metrics.md), a pure function."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from gateway.metrics.fielddocs import shipped_profiles
from gateway.metrics.lineproto import TAG_VALUE_MAX
from gateway.metrics.schema import (
    GATEWAY_DEVICE,
    DeviceMeta,
    FieldType,
    MetricSchema,
    ProfileFields,
    state_codes,
)
from gateway.model import Quality, Reading
from tests.metrics.samples import parse, site_schema

TS = datetime(2026, 3, 1, 12, 0, 0, 123_456, tzinfo=UTC)
TS_MS = 1_772_366_400_123  # TS in whole milliseconds (the microseconds are cut)


def by_row(lines: list[str]) -> dict[tuple[str, str, str], tuple[dict[str, str], dict[str, str]]]:
    out = {}
    for line in lines:
        measurement, tags, fields, ts = parse(line)
        assert ts == TS_MS
        out[(measurement, tags.get("table", ""), tags.get("instance", ""))] = (tags, fields)
    return out


def test_a_switch_poll_becomes_one_line_per_row_with_numeric_fields() -> None:
    schema = site_schema("s1")
    lines = schema.lines(
        [
            Reading("sw-1", "reachable", True, TS),
            Reading("sw-1", "rtt", 1.5, TS, unit="ms"),
            Reading("sw-1", "sys.uptime", 3600, TS, unit="s"),
            Reading("sw-1", "sys.descr", "Switch OS 1.2, build 7", TS),
            Reading("sw-1", "if.name", "Gi0/3", TS, "3"),
            Reading("sw-1", "if.oper_status", "lower_layer_down", TS, "3"),
            Reading("sw-1", "if.admin_status", "unknown(9)", TS, "3"),
            Reading("sw-1", "if.in_octets", 123_456_789, TS, "3", "B"),
            Reading("sw-1", "if.in_octets.rate", 1250.5, TS, "3", "B/s"),
            Reading("sw-1", "if.descr", "GigabitEthernet0/3", TS, "3"),
            Reading("sw-1", "sensor.value", 42, TS, "1001"),
        ]
    )
    rows = by_row(lines)
    assert set(rows) == {
        ("lvgw_device", "", ""),
        ("lvgw_device", "if", "3"),
        ("lvgw_device", "sensor", "1001"),
        ("lvgw_device_info", "", ""),
    }
    tags, fields = rows[("lvgw_device", "", "")]
    assert tags == {"device": "sw-1", "kind": "switch", "site": "s1"}
    assert fields == {"reachable": "1i", "rtt": "1.5", "sys.uptime": "3600.0"}
    tags, fields = rows[("lvgw_device", "if", "3")]
    assert tags == {
        "device": "sw-1", "kind": "switch", "site": "s1",
        "table": "if", "instance": "3", "label": "Gi0/3",
    }  # fmt: skip
    # States as the profile's raw codes, an unmapped code kept; the raw counter is not
    # sent (its rate is); the text columns are a tag or nothing.
    assert fields == {
        "if.oper_status": "7i",
        "if.admin_status": "9i",
        "if.in_octets.rate": "1250.5",
    }
    _, fields = rows[("lvgw_device", "sensor", "1001")]
    assert fields == {"sensor.value": "42.0"}  # a number is a float even when whole
    tags, fields = rows[("lvgw_device_info", "", "")]
    assert tags["sys.descr"] == "Switch OS 1.2, build 7"
    assert fields == {"present": "1i"}


def test_states_map_back_to_the_profiles_raw_codes() -> None:
    schema = site_schema("s1")
    for name, code in [("unknown", 1), ("normal", 2), ("low", 3), ("depleted", 4)]:
        (line,) = schema.lines([Reading("ups-1", "ups.battery_status", name, TS)])
        assert parse(line)[2] == {"ups.battery_status": f"{code}i"}
    # A state name given to several codes maps back to the lowest; unknown text is dropped.
    assert state_codes({3: "down", 2: "down", 1: "up"}) == {"up": 1, "down": 2}
    assert schema.lines([Reading("ups-1", "ups.battery_status", "melting", TS)]) == []


def test_field_types_are_fixed_by_the_profile_not_by_the_value() -> None:
    schema = site_schema("s1")
    whole, fraction = (
        schema.lines([Reading("ups-1", "ups.charge", value, TS)]) for value in (97, 97.5)
    )
    assert parse(whole[0])[2] == {"ups.charge": "97.0"}
    assert parse(fraction[0])[2] == {"ups.charge": "97.5"}
    # Bools are integers 0/1; NaN and infinity cannot be carried and are left out.
    (line,) = schema.lines(
        [
            Reading("ups-1", "reachable", False, TS),
            Reading("ups-1", "ups.battery_voltage", float("nan"), TS),
            Reading("ups-1", "ups.minutes_remaining", float("inf"), TS),
        ]
    )
    assert parse(line)[2] == {"reachable": "0i"}


def test_stale_bad_and_empty_readings_are_not_sent() -> None:
    schema = site_schema("s1")
    assert (
        schema.lines(
            [
                Reading("ups-1", "ups.charge", 80, TS, quality=Quality.STALE),
                Reading("ups-1", "ups.charge", None, TS, quality=Quality.BAD),
                Reading("ups-1", "ups.charge", None, TS),
            ]
        )
        == []
    )


def test_the_gateways_own_readings_go_to_lvgw_gateway() -> None:
    schema = site_schema("s1")
    lines = schema.lines(
        [
            Reading(GATEWAY_DEVICE, "mqtt.connected", True, TS),
            Reading(GATEWAY_DEVICE, "process.rss_bytes", 52_000_000, TS),
            Reading(GATEWAY_DEVICE, "outbox.backlog_messages", 3, TS, "metric"),
            Reading(GATEWAY_DEVICE, "outbox.dropped_messages", 0, TS, "metric"),
        ]
    )
    rows = by_row(lines)
    assert rows[("lvgw_gateway", "", "")] == (
        {"site": "s1"},
        {"mqtt.connected": "1i", "process.rss_bytes": "52000000.0"},
    )
    assert rows[("lvgw_gateway", "outbox", "metric")] == (
        {"site": "s1", "table": "outbox", "instance": "metric"},
        {"outbox.backlog_messages": "3.0", "outbox.dropped_messages": "0.0"},
    )


def test_a_device_outside_the_schema_gets_no_kind_and_generic_types() -> None:
    (line,) = site_schema("s1").lines(
        [Reading("new-1", "reachable", True, TS), Reading("new-1", "x", 2, TS)]
    )
    measurement, tags, fields, _ = parse(line)
    assert (measurement, tags, fields) == (
        "lvgw_device",
        {"device": "new-1", "site": "s1"},
        {"reachable": "1i", "x": "2.0"},
    )


def test_timestamps_are_whole_milliseconds_per_poll() -> None:
    later = TS + timedelta(seconds=30)
    lines = site_schema("s1").lines(
        [Reading("ups-1", "ups.charge", 90, TS), Reading("ups-1", "ups.charge", 89, later)]
    )
    assert [parse(line)[3] for line in lines] == [TS_MS, TS_MS + 30_000]


def test_bitfields_send_their_bits_and_not_the_word() -> None:
    from gateway.config.profile import Profile

    panel = Profile.model_validate(
        {
            "id": "panel",
            "description": "a panel",
            "kinds": ["alarm_panel"],
            "protocol": "modbus",
            "points": {
                "system": {
                    "table": "holding", "address": 0, "type": "bitfield",
                    "bits": {0: "mains_fail", 3: "armed"},
                },
                "door": {"table": "coil", "address": 0, "type": "bool"},
            },
        }
    )  # fmt: skip
    fields = ProfileFields.from_profile(panel)
    assert fields.rules["system"].type is FieldType.SKIP
    assert fields.rules["system.armed"].type is FieldType.INTEGER
    schema = MetricSchema("s1", {"p-1": DeviceMeta("alarm_panel", fields)})
    (line,) = schema.lines(
        [
            Reading("p-1", "system", 9, TS),
            Reading("p-1", "system.mains_fail", True, TS),
            Reading("p-1", "system.armed", False, TS),
            Reading("p-1", "door", True, TS),
        ]
    )
    assert parse(line)[2] == {"system.mains_fail": "1i", "system.armed": "0i", "door": "1i"}


def test_no_field_name_has_two_types_across_the_shipped_profiles() -> None:
    # One measurement holds every profile: InfluxDB refuses a batch whose field changes type.
    seen: dict[str, tuple[str, bool]] = {}
    for profile_id, profile in shipped_profiles().items():
        for name, rule in ProfileFields.from_profile(profile).rules.items():
            if rule.type in (FieldType.TEXT, FieldType.SKIP):
                continue
            integer = rule.type in (FieldType.INTEGER, FieldType.STATE)
            before = seen.setdefault(name, (profile_id, integer))
            assert before[1] == integer, f"{name}: integer in one of {before[0]}, {profile_id}"


@given(text=st.text(min_size=1, max_size=300))
def test_any_text_makes_a_well_formed_tag(text: str) -> None:
    schema = site_schema("s1")
    lines = schema.lines(
        [
            Reading("sw-1", "if.name", text, TS, "7"),
            Reading("sw-1", "if.in_errors.rate", 0.5, TS, "7"),
            Reading("sw-1", "sys.name", text, TS),
            Reading("sw-1", "reachable", True, TS),
        ]
    )
    cleaned = re.sub(r"[\r\n\t]", " ", text).strip()[:TAG_VALUE_MAX]
    for line in lines:
        assert "\n" not in line
        _, tags, fields, ts = parse(line)
        assert ts == TS_MS
        assert fields
        if "table" in tags:
            assert tags.get("label", "") == cleaned
        elif "present" in fields:
            assert tags["sys.name"] == cleaned
    assert len(lines) == (3 if cleaned else 2)
