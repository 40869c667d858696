"""Profile points say what they mean (``meaning:``), from a closed vocabulary; the
report, the forecasts and the status views find points by meaning, not by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, load_config
from gateway.config.load import BUILTIN_PROFILES, _load_profile
from gateway.config.meanings import VOCABULARY, Meaning, meaning_of, points_meaning
from gateway.config.profile import Profile
from gateway.proactive.watches import WATCHES

HEAD = """\
site: {id: site-1, name: Test, customer: {name: C}, contract: {type: annual}}
uplink: {mqtt: {host: 127.0.0.1}}
devices:
  - {id: a, kind: switch, profile: box, address: 10.0.0.1}
"""


def site(tmp_path: Path, profile: str) -> Path:
    profiles = tmp_path / "profiles"
    profiles.mkdir(exist_ok=True)
    (profiles / "box.yaml").write_text(
        "description: x\nkinds: [switch]\nprotocol: snmp\n" + profile
    )
    path = tmp_path / "site.yaml"
    path.write_text(HEAD)
    return path


def problems(tmp_path: Path, profile: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(site(tmp_path, profile))
    return [str(p).removeprefix(f"{tmp_path}/") for p in info.value.problems]


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        (
            "points:\n  x: {oid: 1.3.6.1.2.1.1.5.0, meaning: coolness}\n",
            "profiles/box.yaml:5: field 'points.x.meaning': Input should be 'mains_lost', ",
        ),
        (
            "points:\n  x: {oid: 1.3.6.1.2.1.1.5.0, meaning: disk_free}\n",
            "profiles/box.yaml:5: point x: disk_free is for a table column",
        ),
        (
            "tables:\n  t:\n    instance: row\n    columns:\n"
            "      c: {oid: 1.3.6.1.2.1.2.2.1.14, type: counter32, meaning: port_errors}\n",
            "profiles/box.yaml:8: column t.c: port_errors is a rate: give the counter rate: true",
        ),
        (
            "tables:\n  t:\n    instance: row\n    columns:\n"
            "      c: {oid: 1.3.6.1.2.1.2.2.1.14, meaning: battery_voltage}\n",
            "profiles/box.yaml:8: column t.c: battery_voltage is for a scalar point, "
            "not a table column",
        ),
        (
            "points:\n  x: {oid: 1.3.6.1.2.1.1.5.0, type: int, meaning: uptime,\n"
            "      meanings: {mains_fail: mains_lost}}\n",
            "profiles/box.yaml:6: point x: no bit mains_fail",
        ),
    ],
    ids=["unknown", "scalar", "rate", "table", "bit"],
)
def test_a_meaning_outside_the_vocabulary_or_out_of_place_is_an_error(
    tmp_path: Path, profile: str, expected: str
) -> None:
    (found,) = problems(tmp_path, profile)
    assert found.startswith(expected), found


def shipped(name: str) -> Profile:
    profile, found, _ = _load_profile(name, [BUILTIN_PROFILES])
    assert profile is not None and not found
    return profile


def test_meanings_reach_bits_and_rates_of_the_shipped_profiles() -> None:
    panel, switch, ups = (
        shipped("alarm-panel-modbus"),
        shipped("switch-generic"),
        shipped("ups-rfc1628"),
    )
    assert points_meaning(panel, Meaning.MAINS_LOST) == ("panel.system.mains_fail",)
    assert points_meaning(panel, Meaning.DETECTOR_BATTERY_LOW) == ("zone.status.low_battery",)
    assert points_meaning(switch, Meaning.PORT_ERRORS) == (
        "if.in_errors.rate",
        "if.out_errors.rate",
    )
    assert points_meaning(ups, Meaning.BATTERY_VOLTAGE) == ("ups.battery_voltage",)
    assert meaning_of(ups, "ups.seconds_on_battery") is Meaning.TIME_ON_BATTERY
    assert meaning_of(ups, "ups.minutes_remaining") is Meaning.BATTERY_RUNTIME
    assert meaning_of(ups, "ups.output_source") is None
    assert points_meaning(None, Meaning.DISK_FREE) == ()


def test_every_meaning_a_forecast_watches_is_in_a_shipped_profile() -> None:
    profiles = [shipped(p.stem) for p in BUILTIN_PROFILES.glob("*.yaml")]
    for watch in WATCHES:
        assert any(points_meaning(p, *watch.meanings) for p in profiles), watch.code
    assert set(VOCABULARY) == set(Meaning)  # every meaning documented


def test_docs_list_the_whole_vocabulary() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "profiles.md").read_text()
    missing = [m.value for m in Meaning if f"| `{m.value}` |" not in docs]
    assert missing == []


def test_a_fan_state_stands_on_a_scalar_or_a_column_a_temperature_limit_on_a_column(
    tmp_path: Path,
) -> None:
    fans = (
        "points:\n  f: {oid: 1.3.6.1.4.1.6574.1.4.1.0, type: int, meaning: fan_state}\n"
        "tables:\n  t:\n    instance: fan\n    columns:\n"
        "      s: {oid: 1.3.6.1.4.1.9.9.13.1.4.1.3, type: int, meaning: fan_state}\n"
    )
    config = load_config(site(tmp_path, fans))
    box = config.profiles["box"]
    assert points_meaning(box, Meaning.FAN_STATE) == ("f", "t.s")
    (found,) = problems(
        tmp_path,
        "points:\n  x: {oid: 1.3.6.1.4.1.9.9.13.1.3.1.4.1, type: int, meaning: temperature_limit}\n",
    )
    assert found == "profiles/box.yaml:5: point x: temperature_limit is for a table column"


def test_every_shipped_profile_that_reads_fans_or_temperatures_says_so() -> None:
    """Fans and temperatures of the vendors' tables, where the report's checklist finds
    them (docs/profiles.md, Fans and temperatures)."""
    expected: dict[str, dict[Meaning, tuple[str, ...]]] = {
        "switch-huawei": {
            Meaning.FAN_STATE: ("fan.state",), Meaning.FAN_PRESENT: ("fan.present",),
            Meaning.SENSOR_TEMPERATURE: ("entity.temperature",),
            Meaning.TEMPERATURE_LIMIT: ("entity.temperature_threshold",),
        },
        "switch-cisco": {
            Meaning.FAN_STATE: ("fan.state",),
            Meaning.SENSOR_TEMPERATURE: ("temperature.value",),
            Meaning.TEMPERATURE_LIMIT: ("temperature.threshold",),
            Meaning.TEMPERATURE_STATE: ("temperature.state",),
        },
        "switch-h3c": {
            Meaning.FAN_STATE: ("entity.error_status",), Meaning.ENTITY_CLASS: ("entity.class",),
            Meaning.SENSOR_TEMPERATURE: ("entity.temperature",),
            Meaning.TEMPERATURE_LIMIT: ("entity.temperature_threshold",),
        },
        "nvr-synology": {
            Meaning.FAN_STATE: ("nvr.system_fan", "nvr.cpu_fan"),
            Meaning.TEMPERATURE: ("nvr.temperature",),
            Meaning.SENSOR_TEMPERATURE: ("disk.temperature",),
        },
    }  # fmt: skip
    for name, meanings in expected.items():
        profile = shipped(name)
        for meaning, points in meanings.items():
            assert points_meaning(profile, meaning) == points, (name, meaning)
