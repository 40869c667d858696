"""The site file and profiles: typed models, FILE:LINE problems, exit codes, secrets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import ConfigError, load_config
from gateway.config.load import BUILTIN_PROFILES
from gateway.config.protocols.snmp import snmp_settings
from gateway.config.types import Secret

EXAMPLE = Path("config/site.example.yaml")

GOOD_HEAD = """\
site:
  id: site-1
  name: Test
  customer: {name: C}
  contract: {type: annual}
uplink:
  mqtt: {host: 127.0.0.1}
devices:
"""


def lvgw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args], capture_output=True, text=True, check=False
    )


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(text)
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return [str(p) for p in info.value.problems]


@pytest.mark.integration
def test_example_config_is_valid() -> None:
    result = lvgw("check-config", "-c", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert "site site-001 is valid: 3 devices" in result.stdout


def test_every_shipped_profile_loads() -> None:
    from gateway.config.load import _load_profile

    names = sorted(p.stem for p in BUILTIN_PROFILES.glob("*.yaml"))
    assert "switch-generic" in names
    for name in names:
        profile, problems, _ = _load_profile(name, [BUILTIN_PROFILES])
        assert problems == [], problems
        assert profile is not None and profile.id == name


@pytest.mark.integration
def test_several_mistakes_one_line_each_and_exit_2(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD_HEAD
        + """\
  - id: sw-a
    kind: switch
    profile: switch-generic
    address: 10.0.0.300
  - id: sw-b
    kind: switch
    profile: switch-generic
    address: 10.0.0.2
    colour: blue
  - id: sw-b
    kind: switch
    profile: switch-generic
    address: 10.0.0.3
  - id: cam
    kind: camera
    profile: switch-generic
    address: 10.0.0.4
  - id: sw-c
    kind: switch
    profile: no-such-profile
    address: 10.0.0.5
  - id: sw-d
    kind: switch
    profile: switch-generic
    address: 10.0.0.6
    parent: sw-zz
""",
    )
    result = lvgw("check-config", "-c", str(path))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith(str(path) + ":")]
    problems = [line for line in lines if not line.endswith("problems")]
    expected = [
        f"{path}:12: device 'sw-a', field 'address': not a valid IP address or host name",
        f"{path}:17: device 'sw-b', field 'colour': unknown key",
        f"{path}:18: device 'sw-b', field 'id': duplicate device id (first defined on line 13)",
        f"{path}:23: device 'cam', field 'kind': Input should be",
        f"{path}:28: device 'sw-c', field 'profile': unknown profile 'no-such-profile'",
        f"{path}:34: device 'sw-d', field 'parent': no device 'sw-zz' in this site",
    ]
    assert len(problems) == len(expected), result.stderr
    for line, start in zip(
        sorted(problems, key=lambda s: int(s.split(":")[1])), expected, strict=True
    ):
        assert line.startswith(start), (line, start)


def test_parent_loop_kind_mismatch_and_missing_secret_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD_HEAD.replace(
            "mqtt: {host: 127.0.0.1}", "mqtt: {host: 127.0.0.1, password_file: nope.txt}"
        )
        + """\
  - {id: a, kind: switch, profile: switch-generic, address: 10.0.0.1, parent: b}
  - {id: b, kind: switch, profile: switch-generic, address: 10.0.0.2, parent: a}
  - {id: n, kind: nvr, profile: switch-generic, address: 10.0.0.3}
""",
    )
    problems = problems_of(path)
    assert any(
        ":7: field 'uplink.mqtt.password_file': no such file: nope.txt" in p for p in problems
    )
    assert any(
        ":9: device 'a', field 'parent': parent links form a loop: a -> b -> a" in p
        for p in problems
    )
    assert any(
        ":11: device 'n', field 'profile': profile 'switch-generic' is for switch, not nvr" in p
        for p in problems
    )


def test_yaml_syntax_error_has_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "site:\n  id: [unclosed\n")
    problems = problems_of(path)
    assert len(problems) == 1 and problems[0].startswith(f"{path}:")
    assert "YAML syntax" in problems[0]


def test_duplicate_yaml_key_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_HEAD.replace("  name: Test\n", "  name: Test\n  name: Again\n"))
    assert any(":4: duplicate key 'name'" in p for p in problems_of(path))


def test_a_bad_profile_is_reported_at_its_own_file_and_line(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "my-switch.yaml").write_text(
        "description: x\nkinds: [switch]\nprotocol: snmp\npoints:\n  sys.name: {oid: sysName.0}\n"
    )
    path = write(
        tmp_path,
        GOOD_HEAD + "  - {id: a, kind: switch, profile: my-switch, address: 10.0.0.1}\n",
    )
    problems = problems_of(path)
    assert problems == [
        f"{profiles / 'my-switch.yaml'}:5: field 'points.sys.name.oid': not a numeric OID: "
        "'sysName.0' (give one, or a name from a compiled MIB: MODULE::name, e.g. "
        "SNMPv2-MIB::sysName.0)"
    ]


def test_durations_and_snmp_version_forms(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD_HEAD + "  - {id: a, kind: switch, profile: switch-generic, address: sw1.example.net,"
        " interval: 2m, snmp: {version: 2, community: s3cret, timeout: 500ms}}\n",
    )
    device = load_config(path).devices[0]
    assert device.interval == 120.0
    snmp = snmp_settings(device)
    assert snmp is not None
    assert snmp.version == "2c"
    assert snmp.timeout == pytest.approx(0.5)


def test_secrets_never_print(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD_HEAD + "  - {id: a, kind: switch, profile: switch-generic, address: 10.0.0.1,"
        " snmp: {community: hunter2-community}}\n",
    )
    config = load_config(path)
    snmp = snmp_settings(config.devices[0])
    assert snmp is not None
    assert snmp.community.reveal() == "hunter2-community"
    for text in (repr(config), str(config.site_file), config.site_file.model_dump_json()):
        assert "hunter2" not in text
    assert str(Secret("x")) == repr(Secret("x")) == "<secret>"


DEVICE = "  - {id: sw-a, kind: switch, profile: switch-generic, address: 192.0.2.1}\n"


@pytest.mark.integration
def test_duty_hours_without_a_time_zone_are_an_error_at_their_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD_HEAD.replace("  contract: {type: annual}\n", "  contract: {type: annual}\n"
                          "  clocks:\n    duty: {start: '08:00'}\n") + DEVICE,
    )  # fmt: skip
    result = lvgw("check-config", "-c", str(path))
    assert result.returncode == 2
    assert f"{path}:7: field 'site.clocks.duty': duty hours need a time zone" in result.stderr
    # The site's time zone serves its duty calendar.
    fixed = path.read_text().replace("  clocks:\n", "  timezone: Asia/Shanghai\n  clocks:\n")
    path.write_text(fixed)
    config = load_config(path)
    assert not [w for w in config.warnings if "timezone" in w.message]
    assert str(config.site_file.site.local_zone) == "Asia/Shanghai"


@pytest.mark.integration
def test_no_time_zone_at_all_is_a_warning_and_utc(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_HEAD + DEVICE)
    result = lvgw("check-config", "-c", str(path))
    assert result.returncode == 0, result.stderr
    assert f"{path}:1: warning: field 'site.timezone' is not set" in result.stderr
    assert "run in UTC" in result.stderr
    assert str(load_config(path).site_file.site.local_zone) == "UTC"


def test_an_unknown_time_zone_is_refused(tmp_path: Path) -> None:
    head = GOOD_HEAD.replace("  contract: {type: annual}\n",
                             "  contract: {type: annual}\n  timezone: Asia/Beijing\n")  # fmt: skip
    problems = problems_of(write(tmp_path, head + DEVICE))
    assert problems == [
        f"{tmp_path / 'site.yaml'}:6: field 'site.timezone': unknown time zone 'Asia/Beijing'"
        " (an IANA name, e.g. Asia/Shanghai)"
    ]


def test_empty_duty_is_the_seeds_on_call_hours() -> None:
    from gateway.config.site import Duty

    duty = Duty()
    assert (duty.start, duty.end, duty.days) == (
        "08:00", "22:30", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    )  # fmt: skip
