"""Each device's headline figures from the status snapshot, found by the shipped
profiles' meanings (gateway/present/summary.py), and the state behind each."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from gateway import snapshot
from gateway.config import load_config
from gateway.config.load import BUILTIN_PROFILES, LoadedConfig, _load_profile
from gateway.config.meanings import Meaning as M
from gateway.config.meanings import meanings_of
from gateway.config.site import DeviceKind
from gateway.i18n import translator
from gateway.model import Value
from gateway.poller.result import PollResult
from gateway.present.summary import State, display_name, kind_word, site_meanings, summarize
from gateway.snapshot import DeviceStatus
from gateway.views.status import render
from tests.rules.harness import T0, down, poll, write_site

DEVICES: list[dict[str, Any]] = [
    {"id": "sw", "kind": "switch", "profile": "switch-generic"},
    {"id": "nvr", "kind": "nvr", "profile": "nvr-hikvision", "name": "Recorder, lobby"},
    {"id": "pbx", "kind": "pbx", "profile": "pbx-asterisk"},
    {"id": "ups", "kind": "ups", "profile": "ups-rfc1628"},
    {"id": "panel", "kind": "alarm_panel", "profile": "alarm-panel-modbus", "modbus": {}},
]
CAMERAS = {f"camera.online[{n}]": "online" for n in range(1, 17)}
DISKS: dict[str, Value] = {
    **{f"disk.status[{n}]": "normal" for n in range(1, 5)},
    **{f"disk.free[{n}]": 317_270 for n in range(1, 5)},
    **{f"disk.capacity[{n}]": 564_270.5 for n in range(1, 5)},
}


def status_of(
    config: LoadedConfig, device: str, *results: PollResult, level: int | None = None
) -> DeviceStatus:
    """The device's entry in the snapshot the agent would write after ``results``."""
    view = snapshot.DeviceView(snapshot.meant_columns(config, device))
    for result in results:
        view.update(result)
    data = snapshot.build(config, {device: view}, (), snapshot.UplinkStatus(), T0)
    found = data.device(device)
    assert found is not None
    return found if level is None else found.model_copy(update={"worst_level": level})


def summary_of(config: LoadedConfig, device: str, values: Mapping[str, Value]) -> Any:
    meanings = site_meanings(config)[device]
    return summarize(status_of(config, device, poll(device, 0, values)), meanings)


def test_a_recorder_counts_cameras_and_disks_and_free_space(tmp_path: Path) -> None:
    config = load_config(write_site(tmp_path, DEVICES))
    summary = summary_of(config, "nvr", {"sys.uptime": 187_200, **CAMERAS, **DISKS})
    assert summary.line() == "up 2 d 4 h; 16/16 cameras; disks 4/4 OK; 1.27 TB free, 56 %"
    assert summary.state is State.OK
    offline = summary_of(
        config, "nvr", {**CAMERAS, "camera.online[3]": "offline", **DISKS,
                        "disk.status[2]": "smart_failed"},
    )  # fmt: skip
    cameras, disks = offline.figure("cameras"), offline.figure("disks")
    assert (cameras.text, cameras.state) == ("15/16 cameras", State.DEGRADED)
    assert (disks.text, disks.state) == ("disks 3/4 OK, 1 to replace", State.DEGRADED)
    assert offline.state is State.DEGRADED


def test_a_switch_counts_enabled_ports_up_and_errors(tmp_path: Path) -> None:
    config = load_config(write_site(tmp_path, DEVICES))
    values: dict[str, Value] = {"sys.uptime": 3661, "sys.descr": "Switch OS 1.2, build 7",
                                "sys.name": "core-1"}  # fmt: skip
    for port in range(1, 9):
        values[f"if.admin_status[{port}]"] = "down" if port == 8 else "up"
        values[f"if.oper_status[{port}]"] = "up" if port <= 5 else "down"
        values[f"if.in_errors.rate[{port}]"] = 0.0
        values[f"if.out_errors.rate[{port}]"] = 0.0
    quiet = summary_of(config, "sw", values)
    assert quiet.line() == "up 1 h 1 min; ports up 5/7; no errors"
    assert "Switch OS" not in quiet.line()  # what the device is is no headline
    values["if.in_errors.rate[2]"] = 0.5
    values["if.out_errors.rate[2]"] = 0.25
    erring = summary_of(config, "sw", values).figure("errors")
    assert (erring.text, erring.state) == ("errors 0.75/s (1 of 8 ports)", State.DEGRADED)
    # The Name column: the site file's name, else the one the device gives itself.
    meanings = site_meanings(config)
    assert display_name(status_of(config, "sw", poll("sw", 0, values)), meanings["sw"]) == "core-1"
    nvr = status_of(config, "nvr", poll("nvr", 0, {"sys.name": "nvr-7"}))
    assert display_name(nvr, meanings["nvr"]) == "Recorder, lobby"


def test_a_pbx_ups_and_panel(tmp_path: Path) -> None:
    config = load_config(write_site(tmp_path, DEVICES))
    pbx = summary_of(
        config,
        "pbx",
        {"trunk.status[1]": "registered", "trunk.status[2]": "unreachable", "pbx.active_calls": 3},
    )
    assert pbx.line() == "trunks 1/2; 3 calls" and pbx.state is State.DEGRADED
    ups = summary_of(
        config,
        "ups",
        {
            "ups.seconds_on_battery": 0,
            "ups.charge": 100,
            "ups.minutes_remaining": 40,
            "ups.battery_status": "normal",
        },
    )
    assert ups.line() == "on mains; battery 100 %, 40 min" and ups.state is State.OK
    on_battery = summary_of(
        config,
        "ups",
        {"ups.seconds_on_battery": 300, "ups.charge": 20, "ups.battery_status": "low"},
    )
    assert on_battery.line() == "on battery for 5 min; battery 20 %, low"
    assert on_battery.state is State.DEGRADED
    panel = summary_of(config, "panel", {
        "panel.system.armed": 1, "panel.system.mains_fail": 0, "panel.system.battery_low": 0,
        "panel.battery_voltage": 13.61, "panel.zone_count": 4,
        **{f"zone.status.alarm[{z}]": int(z == 2) for z in range(1, 5)},
        **{f"zone.status.fault[{z}]": 0 for z in range(1, 5)},
    })  # fmt: skip
    assert panel.line() == "armed; zones: 1 in alarm; on mains; battery 13.6 V"
    assert panel.figure("zones").state is State.DEGRADED


def test_a_clock_off_by_minutes_shows_as_an_offset(tmp_path: Path) -> None:
    config = load_config(write_site(tmp_path, DEVICES))
    polled = T0.timestamp()
    late = summary_of(config, "sw", {"sys.date": polled - 7 * 60})
    assert late.figure("clock").text == "clock -7 min"
    assert late.figure("clock").state is State.DEGRADED
    assert summary_of(config, "sw", {"sys.date": polled + 2}).figure("clock") is None


def test_state_follows_reachability_and_open_tickets(tmp_path: Path) -> None:
    config = load_config(write_site(tmp_path, DEVICES))
    meanings = site_meanings(config)["ups"]
    never = status_of(config, "ups")
    assert summarize(never, meanings).state is State.UNKNOWN
    gone = status_of(config, "ups", poll("ups", 0, {"ups.charge": 90}), down("ups", 30))
    assert summarize(gone, meanings).line() == "not answering"
    assert summarize(gone, meanings).state is State.DOWN
    ok = poll("ups", 0, {"ups.charge": 90})
    assert summarize(status_of(config, "ups", ok, level=3), meanings).state is State.DEGRADED
    assert summarize(status_of(config, "ups", ok, level=1), meanings).state is State.DOWN


def test_the_snapshot_keeps_only_meant_table_numbers(tmp_path: Path) -> None:
    config = load_config(write_site(tmp_path, DEVICES))
    device = status_of(config, "sw", poll("sw", 0, {
        "if.in_errors.rate[1]": 0.5, "if.speed[1]": 1000, "if.in_octets.rate[1]": 1250.0,
        "sys.descr": "Switch OS",
    }))  # fmt: skip
    assert device.meant["if.in_errors.rate"] == {"1": 0.5}
    assert device.meant["if.in_octets.rate"] == {"1": 1250.0}
    assert "if.speed" not in device.meant  # no meaning: not kept
    assert "sys.descr" not in device.meant  # what the device is: never a figure
    again = snapshot.StatusSnapshot.from_json(
        snapshot.build(config, {}, (), snapshot.UplinkStatus(), T0 + timedelta(seconds=1))
        .model_dump_json()
    )  # fmt: skip
    assert again.devices[0].meant == {}


# What each kind's summary reads and every device of the kind publishes: every shipped
# profile of the kind declares it. (Cameras and trunks are not in every vendor's MIB:
# Synology publishes no camera state over SNMP, FREESWITCH-MIB no trunks.)
SUMMARISED = {
    "switch": (M.UPTIME, M.PORT_STATE, M.PORT_ADMIN_STATE, M.PORT_ERRORS, M.DEVICE_NAME),
    "nvr": (M.DISK_STATUS, M.DISK_FREE, M.DISK_CAPACITY),
    "pbx": (M.CALLS_ACTIVE,),
    "ups": (M.BATTERY_CHARGE, M.BATTERY_RUNTIME, M.TIME_ON_BATTERY),
    "alarm_panel": (M.ARMED, M.ZONE_ALARM, M.MAINS_LOST),
}


# What a device cannot show at all, as its vendor publishes its interface (the
# profile's header says so): its summary goes without that figure.
CANNOT_SHOW = {
    "nvr-synology": {M.CAMERA_STATE},  # no Synology MIB has Surveillance Station's cameras
    "pbx-freeswitch": {M.TRUNK_STATE},  # FREESWITCH-MIB has no trunk (Sofia gateway) object
}


def test_every_shipped_profile_declares_what_its_kinds_summary_reads() -> None:
    missing = []
    for path in sorted(BUILTIN_PROFILES.glob("*.yaml")):
        profile, _, _ = _load_profile(path.stem, [BUILTIN_PROFILES])
        assert profile is not None
        declared = set(meanings_of(profile).values()) | CANNOT_SHOW.get(path.stem, set())
        for kind in profile.kinds:
            missing += [f"{path.stem}: {m}" for m in SUMMARISED[kind.value] if m not in declared]
    assert missing == []
    for profile_id, meanings in CANNOT_SHOW.items():  # an exception that still holds
        profile, _, _ = _load_profile(profile_id, [BUILTIN_PROFILES])
        assert profile is not None and not meanings & set(meanings_of(profile).values())


def test_lvgw_status_prints_each_devices_state_and_summary(tmp_path: Path) -> None:
    config = load_config(write_site(tmp_path, DEVICES))
    nvr = snapshot.DeviceView(snapshot.meant_columns(config, "nvr"))
    nvr.update(poll("nvr", 0, {**CAMERAS, "camera.online[3]": "offline", **DISKS}))
    ups = snapshot.DeviceView(snapshot.meant_columns(config, "ups"))
    ups.update(poll("ups", 0, {"ups.seconds_on_battery": 0, "ups.charge": 100,
                               "ups.minutes_remaining": 40}))  # fmt: skip
    data = snapshot.build(config, {"nvr": nvr, "ups": ups}, (), snapshot.UplinkStatus(), T0)
    out = io.StringIO()
    render(data, out, site_meanings(config), T0)
    lines = {line.split()[0]: line for line in out.getvalue().splitlines() if line}
    assert lines["nvr"].split()[2] == "degraded"
    assert lines["nvr"].endswith("15/16 cameras; disks 4/4 OK; 1.27 TB free, 56 %")
    assert lines["ups"].endswith("on mains; battery 100 %, 40 min")
    assert lines["sw"].endswith("not polled yet")


def test_device_kinds_are_named_in_the_sites_language() -> None:
    chinese, english = translator("zh-CN"), translator("en")
    assert kind_word("switch", chinese) == "交换机"
    assert kind_word("nvr", chinese) == "录像机"
    # Every kind a site file accepts has its word, in both languages.
    for kind in DeviceKind:
        assert kind_word(kind.value, chinese) != kind.value, kind
        assert kind_word(kind.value, english) == kind.value
    assert kind_word("not-a-kind", chinese) == "not-a-kind"
