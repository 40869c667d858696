"""Maintenance: the windows (validation, the file, other processes' changes) and the gate
(held, marked, released when it ends, vanished when cleared meanwhile)."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.correlate import (
    GATEWAY,
    GATEWAY_NETWORK_DOWN,
    SITE,
    Correlator,
    MaintenanceError,
    MaintenanceStore,
    MaintenanceStoreError,
)
from gateway.correlate.maintenance import end_time
from tests.correlate.kit import SITE as DEVICES
from tests.correlate.kit import (
    T0,
    UNREACHABLE,
    FakeProbe,
    at,
    brief,
    fault,
    site_config,
    unreachable,
)


def store(tmp_path: Path) -> MaintenanceStore:
    return MaintenanceStore(tmp_path / "state", DEVICES)


# -- the windows ----------------------------------------------------------------------


def test_set_list_and_clear(tmp_path: Path) -> None:
    s = store(tmp_path)
    window = s.set_maintenance("nvr-1", at(3600), "Li Wei", "  disk swap ", now=T0)
    assert (window.target, window.until, window.by, window.reason) == (
        "nvr-1", at(3600), "Li Wei", "disk swap"
    )  # fmt: skip
    s.set_maintenance(SITE, at(600), "Zhang Min", now=T0)
    assert [w.target for w in s.maintenance(T0)] == [SITE, "nvr-1"]  # site first
    assert [w.target for w in s.maintenance(at(601))] == ["nvr-1"]  # the site's ended
    assert s.window_for("nvr-1", T0) is not None and s.window_for(GATEWAY, T0) is not None
    assert s.window_for("nvr-2", at(601)) is None
    assert s.clear_maintenance("nvr-1", now=at(700)) == window
    assert s.maintenance(at(700)) == []


def test_setting_again_replaces_the_window(tmp_path: Path) -> None:
    s = store(tmp_path)
    s.set_maintenance("nvr-1", at(3600), "Li Wei", now=T0)
    s.set_maintenance("nvr-1", at(7200), "Zhang Min", "longer", now=at(60))
    assert [(w.until, w.by) for w in s.maintenance(at(60))] == [(at(7200), "Zhang Min")]


@pytest.mark.parametrize(
    ("target", "until", "by", "reason", "message"),
    [
        ("nvr-9", 3600, "Li", "", "no device 'nvr-9' in this site"),
        ("nvr-1", -1, "Li", "", "is in the past"),
        ("nvr-1", 0, "Li", "", "is in the past"),
        ("nvr-1", 86400 + 60, "Li", "", "at most 1 d; .* is 1 d 1 min away"),
        ("nvr-1", 3600, "  ", "", "say who sets maintenance"),
        ("nvr-1", 3600, "Li", "x" * 501, "at most 500 characters"),
    ],
)
def test_requests_are_validated(
    tmp_path: Path, target: str, until: float, by: str, reason: str, message: str
) -> None:
    s = store(tmp_path)
    with pytest.raises(MaintenanceError, match=message):
        s.set_maintenance(target, at(until), by, reason, now=T0)
    assert not s.path.exists()


def test_an_end_without_time_zone_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MaintenanceError, match="time zone"):
        store(tmp_path).set_maintenance("nvr-1", at(60).replace(tzinfo=None), "Li", now=T0)


def test_clearing_what_is_not_in_maintenance_says_so(tmp_path: Path) -> None:
    s = store(tmp_path)
    with pytest.raises(MaintenanceError, match="device 'nvr-1' is not in maintenance"):
        s.clear_maintenance("nvr-1", now=T0)
    s.set_maintenance(SITE, at(60), "Li", now=T0)
    with pytest.raises(MaintenanceError, match="the site is not in maintenance"):
        s.clear_maintenance(SITE, now=at(61))  # it ended by itself


def test_end_times_as_people_type_them() -> None:
    assert end_time(T0, span="2h") == at(7200)
    assert end_time(T0, span=90) == at(90)
    assert end_time(T0, until="2026-01-05T18:00:00+08:00") == at(3600)
    for until, span, message in [
        (None, None, "either"),
        ("2026-01-05T10:00:00Z", "1h", "either"),
        ("2026-01-05T10:00:00", None, "time zone"),
        ("tomorrow", None, "time zone"),
        (None, "soon", "not a duration"),
        (None, "-5m", "not a duration"),
    ]:
        with pytest.raises(MaintenanceError, match=message):
            end_time(T0, until=until, span=span)


def test_the_file_is_json_written_atomically_and_read_back(tmp_path: Path) -> None:
    s = store(tmp_path)
    s.set_maintenance("pbx-1", at(3600), "Li Wei", "trunk card", now=T0)
    data = json.loads(s.path.read_text())
    assert data == {
        "schema": "lvgw.maintenance/1",
        "windows": [
            {
                "target": "pbx-1",
                "until": "2026-01-05T10:00:00Z",
                "by": "Li Wei",
                "reason": "trunk card",
                "set_at": "2026-01-05T09:00:00Z",
            }
        ],
    }
    assert sorted(p.name for p in s.path.parent.iterdir()) == [
        "maintenance.json", "maintenance.lock"
    ]  # fmt: skip
    again = store(tmp_path)  # a restart
    assert again.maintenance(T0) == s.maintenance(T0)


def test_ended_windows_are_dropped_when_the_file_is_written(tmp_path: Path) -> None:
    s = store(tmp_path)
    s.set_maintenance("pbx-1", at(60), "Li", now=T0)
    s.set_maintenance("nvr-1", at(3600), "Li", now=at(120))
    assert [w["target"] for w in json.loads(s.path.read_text())["windows"]] == ["nvr-1"]


def test_another_process_change_is_picked_up_by_its_file_stamp(tmp_path: Path) -> None:
    agent, cli = store(tmp_path), store(tmp_path)
    assert agent.reload_if_changed() is False
    cli.set_maintenance("nvr-1", at(3600), "Li", now=T0)
    assert agent.reload_if_changed() is True
    assert agent.window_for("nvr-1", T0) is not None
    assert agent.reload_if_changed() is False
    cli.clear_maintenance("nvr-1", now=T0)
    assert agent.reload_if_changed() is True and agent.window_for("nvr-1", T0) is None


def test_a_malformed_file_is_an_error_naming_it(tmp_path: Path) -> None:
    s = store(tmp_path)
    s.path.parent.mkdir(parents=True, exist_ok=True)
    for text in (
        "{not json",
        '{"schema": "other/1", "windows": []}',
        '{"schema": "lvgw.maintenance/1"}',
    ):
        s.path.write_text(text)
        with pytest.raises(MaintenanceStoreError, match=r"maintenance\.json: malformed"):
            store(tmp_path)


def test_an_unwritable_state_dir_is_a_store_error(tmp_path: Path) -> None:
    s = store(tmp_path)
    s.path.parent.write_text("a file where the directory should be")
    with pytest.raises(MaintenanceStoreError, match=r"maintenance\.lock"):
        s.set_maintenance("nvr-1", at(60), "Li", now=T0)
    with pytest.raises(MaintenanceStoreError, match="Not a directory"):
        store(tmp_path)


# -- the gate, through the correlator ------------------------------------------------


def correlator(tmp_path: Path, probe: FakeProbe | None = None) -> Correlator:
    return Correlator(site_config(tmp_path), probe or FakeProbe({"nvr-2"}), link=lambda: None)


async def test_held_while_it_lasts_and_opened_when_it_ends(tmp_path: Path) -> None:
    c = correlator(tmp_path)
    c.store.set_maintenance("nvr-2", at(600), "Li Wei", "disk swap", now=T0)
    assert await c.process(unreachable("nvr-2", 90, 1)) == []
    assert brief(c.held()) == [("nvr-2", UNREACHABLE, True, 1, ())]
    assert await c.tick(at(599)) == []
    out = await c.tick(at(600))
    assert brief(out) == [("nvr-2", UNREACHABLE, True, 1, ())]
    assert out[0].since == at(600)  # the service clock starts when maintenance ends
    assert not out[0].maintenance
    assert c.held() == []
    out = await c.process(unreachable("nvr-2", 900, 1, active=False))
    assert brief(out) == [("nvr-2", UNREACHABLE, False, 1, ())]


async def test_cleared_meanwhile_vanishes(tmp_path: Path) -> None:
    c = correlator(tmp_path)
    c.store.set_maintenance("nvr-2", at(3600), "Li Wei", now=T0)
    assert await c.process(unreachable("nvr-2", 90, 1)) == []
    assert await c.process(unreachable("nvr-2", 300, 1, active=False)) == []
    c.store.clear_maintenance("nvr-2", now=at(400))
    assert await c.tick(at(400)) == []


async def test_events_of_tickets_open_before_are_marked(tmp_path: Path) -> None:
    c = correlator(tmp_path)
    opened = await c.process(unreachable("nvr-2", 90, 1))
    assert brief(opened) == [("nvr-2", UNREACHABLE, True, 1, ())]
    c.store.set_maintenance("nvr-2", at(3600), "Li Wei", now=at(100))
    disk = fault("nvr-2", "nvr.disk_failed", 150, level=2)
    assert await c.process(disk) == []  # new: held
    out = await c.process(unreachable("nvr-2", 200, 1, active=False))
    assert [(c.active, c.maintenance) for c in out] == [(False, True)]


async def test_site_maintenance_holds_the_gateways_own_conditions(tmp_path: Path) -> None:
    devices = {"sw-a": {"kind": "switch"}, "sw-b": {"kind": "switch"}}
    c = Correlator(site_config(tmp_path, devices), FakeProbe(set(devices)), link=lambda: None)
    c.store.set_maintenance(SITE, at(3600), "Zhang Min", "power work", now=T0)
    assert await c.process(unreachable("sw-a", 90)) == []
    assert await c.process(unreachable("sw-b", 95)) == []
    assert brief(c.held()) == [(GATEWAY, GATEWAY_NETWORK_DOWN, True, 1, ("sw-a", "sw-b"))]


async def test_a_change_made_by_another_process_applies_at_the_next_tick(tmp_path: Path) -> None:
    c = correlator(tmp_path)
    cli = MaintenanceStore(c.store.path.parent, DEVICES)  # as `lvgw maintenance` would
    cli.set_maintenance("nvr-2", at(3600), "Li Wei", now=T0)
    await c.tick(at(1))
    assert await c.process(unreachable("nvr-2", 90, 1)) == []
    cli.clear_maintenance("nvr-2", now=at(120))
    out = await c.tick(at(125))
    assert brief(out) == [("nvr-2", UNREACHABLE, True, 1, ())]
    assert out[0].since == at(125)


async def test_windows_survive_a_restart(tmp_path: Path) -> None:
    c = correlator(tmp_path)
    c.store.set_maintenance("nvr-2", at(3600), "Li Wei", now=T0)
    restarted = correlator(tmp_path)
    assert await restarted.process(unreachable("nvr-2", 90, 1)) == []
    assert len(restarted.held()) == 1


async def test_an_unreadable_file_keeps_the_windows_known(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    c = correlator(tmp_path)
    c.store.set_maintenance("nvr-2", at(3600), "Li Wei", now=T0)
    c.store.path.write_text("{garbage")
    with caplog.at_level(logging.ERROR, logger="lvgw.correlate"):
        assert await c.tick(at(10)) == []
    assert "maintenance file unreadable" in caplog.text
    assert await c.process(unreachable("nvr-2", 90, 1)) == []  # still in maintenance


async def test_maintenance_end_after_a_long_hold_uses_the_tick_time(tmp_path: Path) -> None:
    c = correlator(tmp_path)
    c.store.set_maintenance("nvr-2", T0 + timedelta(hours=20), "Li", now=T0)
    await c.process(unreachable("nvr-2", 90, 1))
    out = await c.tick(T0 + timedelta(hours=20, seconds=3))
    assert out[0].since == T0 + timedelta(hours=20, seconds=3)
