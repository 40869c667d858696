"""Device behaviour on a fake clock: how values move with time and faults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from simulators.errors import FaultError
from simulators.fleet import load_fleet
from simulators.modbus.panel_map import registers
from simulators.models import build_model
from simulators.models.base import Ramp
from simulators.models.events import Booted, DiskChanged, Event, LinkChanged, TrunkChanged


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def model(tmp_path: Path, clock: FakeClock, entry: str) -> Any:
    path = tmp_path / "fleet.yaml"
    path.write_text(f"devices:\n  - {{{entry}, port: 2000}}\n")
    built: Any = build_model(load_fleet(path).devices[0], clock)
    built.events = []
    built.listeners.append(lambda _model, event: built.events.append(event))
    return built


def at(device: Any, clock: FakeClock, seconds: float) -> Any:
    clock.now += seconds
    device.refresh()
    return device


def test_ramp_folds_and_clamps() -> None:
    ramp = Ramp(10.0, now=0.0, rate=2.0, lo=0.0, hi=15.0)
    assert ramp.at(2.0) == 14.0 and ramp.at(100.0) == 15.0
    ramp.set(2.0, rate=-1.0)
    assert ramp.at(5.0) == 11.0 and ramp.at(50.0) == 0.0


def test_switch_counters_stop_while_a_port_is_down(tmp_path: Path, clock: FakeClock) -> None:
    switch = model(tmp_path, clock, "id: sw, kind: switch, ports: 4")
    port = switch.port(2)
    at(switch, clock, 10)
    moved = port.in_octets.at(switch.now)
    assert moved == pytest.approx(port.rate_in * 10)
    switch.inject("port_down", {"port": 2})
    at(switch, clock, 10)
    assert port.in_octets.at(switch.now) == pytest.approx(moved)
    switch.inject("port_admin_down", {"port": 2})  # already down: no second linkDown
    assert switch.events == [LinkChanged(2, up=False)]
    switch.clear("port_down")
    assert port.oper_up is False  # still disabled by configuration
    switch.clear("port_admin_down", {"port": "2"})
    assert switch.events[-1] == LinkChanged(2, up=True)
    switch.inject("restart")
    assert switch.events[-1] == Booted() and switch.uptime() == 0
    assert port.in_octets.at(switch.now) == 0 and switch.active == []


def test_faults_are_idempotent_and_cleared_by_params(tmp_path: Path, clock: FakeClock) -> None:
    switch = model(tmp_path, clock, "id: sw, kind: switch, ports: 8")
    switch.inject("port_down", {"port": "3"})
    switch.inject("port_down", {"port": 3})
    switch.inject("port_down", {"port": 5})
    assert [str(f) for f in switch.active] == ["port_down(port=3)", "port_down(port=5)"]
    assert [str(f) for f in switch.clear("port_down", {"port": 5})] == ["port_down(port=5)"]
    assert switch.port(3).oper_up is False and switch.port(5).oper_up is True
    with pytest.raises(FaultError, match="not a int"):
        switch.inject("port_down", {"port": "three"})
    with pytest.raises(FaultError, match=r"must be >= 1"):
        switch.inject("port_down", {"port": 0})
    with pytest.raises(FaultError, match="has no fault 'melt'"):
        switch.clear("melt")


def test_panel_battery_runs_flat_and_the_panel_boots_on_mains(
    tmp_path: Path, clock: FakeClock
) -> None:
    panel = model(tmp_path, clock, "id: p, kind: alarm_panel, zones: 2, battery_minutes: 10")
    at(panel, clock, 100)
    assert registers(panel)[:4] == [16, 1365, 2, 230]
    panel.inject("mains_fail")
    assert registers(panel)[1] == 1290  # 12.90 V on battery
    at(panel, clock, 300)  # half the runtime: 12.9 - 1.2 V
    words = registers(panel)
    assert words[0] == 16 | 1 and words[1] == 1170 and words[3] == 0
    at(panel, clock, 60)  # 11.46 V: battery low
    assert registers(panel)[0] == 16 | 1 | 2
    at(panel, clock, 240)
    assert panel.depleted() and not panel.answering()
    panel.clear("mains_fail")
    assert panel.answering() and panel.uptime() == 0 and panel.events == [Booted()]
    assert registers(panel)[:2] == [16, 1365]


def test_panel_zone_words(tmp_path: Path, clock: FakeClock) -> None:
    panel = model(tmp_path, clock, "id: p, kind: alarm_panel, zones: 3")
    panel.inject("zone_alarm", {"zone": 3})
    panel.inject("detector_battery_low", {"zone": 3})
    panel.inject("zone_bypass", {"zone": 1})
    words = registers(panel)
    assert words[16:19] == [8, 0, 1 | 16] and words[0] == 16 | 32 | 64
    panel.clear("zone_alarm")
    assert registers(panel)[18] == 16 and registers(panel)[0] == 16 | 64
    assert len(registers(panel)) == 19


def test_ups_discharge_alarms_and_depletion(tmp_path: Path, clock: FakeClock) -> None:
    ups = model(tmp_path, clock, "id: u, kind: ups, battery_minutes: 20, load_percent: 40")
    ups.inject("on_battery")
    at(ups, clock, 600)  # half of a 20-minute battery
    assert (ups.charge_percent(), ups.minutes_remaining(), ups.battery_status()) == (50, 10, 2)
    assert ups.seconds_on_battery() == 600 and [a.kind for a in ups.alarms] == [2]
    ups.inject("overload", {"load": 160})  # four times the load: a quarter of the runtime
    assert ups.minutes_remaining() == round(0.5 * 5)
    at(ups, clock, 90)  # 50 % - 90 s of a 300 s battery = 20 %: low
    assert ups.battery_status() == 3
    assert [(a.id, a.kind) for a in ups.alarms] == [(1, 2), (2, 8), (3, 3)]  # in order raised
    at(ups, clock, 120)
    assert ups.depleted() and ups.output_source() == 2 and ups.output_load() == 0
    assert [(a.id, a.kind) for a in ups.alarms] == [(1, 2), (2, 8), (4, 4)]
    ups.clear()
    assert ups.battery_status() == 2 and ups.output_source() == 3 and ups.alarms == []


def test_nvr_disks_fill_and_a_full_disk_hands_over(tmp_path: Path, clock: FakeClock) -> None:
    nvr = model(tmp_path, clock,
                "id: n, kind: nvr, disks: 2, cameras: 2, camera_kbps: 8192, "
                "disk_capacity_mb: 10000")  # fmt: skip
    first, second = nvr.disks
    start = [d.free_mb(nvr.now) for d in nvr.disks]
    at(nvr, clock, 100)  # 2 x 8 Mbit/s = 2 MB/s, 1 MB/s per disk
    assert [d.free_mb(nvr.now) for d in nvr.disks] == [start[0] - 100, start[1] - 100]
    nvr.inject("disk_failed", {"disk": 2})
    assert nvr.events == [DiskChanged(2, failed=True)]
    at(nvr, clock, 100)  # all 2 MB/s to disk 1 now
    assert first.free_mb(nvr.now) == start[0] - 300 and second.free_mb(nvr.now) == start[1] - 100
    nvr.inject("camera_offline", {"count": 2})
    assert not nvr.recording()
    with pytest.raises(FaultError, match="exactly one of"):
        nvr.inject("camera_offline", {"channel": 1, "count": 1})


def test_a_working_trunk_always_carries_a_call(tmp_path: Path, clock: FakeClock) -> None:
    pbx = model(tmp_path, clock, "id: p, kind: pbx, trunks: 2, channels_per_trunk: 8")
    for _window in range(400):  # loads drawn afresh every 15 s: some under 1/8
        assert all(pbx.trunk_calls(trunk) >= 1 for trunk in pbx.trunks)
        at(pbx, clock, 15)


def test_pbx_trunks(tmp_path: Path, clock: FakeClock) -> None:
    pbx = model(tmp_path, clock, "id: p, kind: pbx, trunks: 3, channels_per_trunk: 30")
    assert pbx.active_calls() > 0
    pbx.inject("trunk_down", {"trunk": 2})
    pbx.inject("trunk_down", {"trunk": "all"})
    assert pbx.active_calls() == 0
    events: list[Event] = pbx.events
    assert events == [TrunkChanged(2, False), TrunkChanged(1, False), TrunkChanged(3, False)]
    pbx.clear("trunk_down", {"trunk": "all"})
    assert [t.up for t in pbx.trunks] == [True, False, True]
    before = pbx.calls_processed.at(pbx.now)
    at(pbx, clock, 120)  # 2 trunks x 30 channels x 35 % load / 120 s per call
    assert pbx.calls_processed.at(pbx.now) - before == pytest.approx(21)
