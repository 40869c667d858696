"""A device's tables as rows people read (gateway/present/tables.py), and their HTML:
names first, states as words with their mark, numbers in units, sortable."""

from __future__ import annotations

from pathlib import Path

from gateway.config import load_config
from gateway.model import Value
from gateway.present.summary import State, site_meanings
from gateway.present.tables import device_tables
from gateway.views.charts import worth_charting
from gateway.views.pages import table_html
from tests.rules.harness import poll, write_site
from tests.unit.test_summary import DEVICES, status_of


def test_a_recorders_disks_and_cameras_and_a_switchs_ports(tmp_path: Path) -> None:
    config = load_config(write_site(tmp_path, DEVICES))
    meanings = site_meanings(config)
    nvr = status_of(config, "nvr", poll("nvr", 0, {
        "disk.volume[1]": "HDD 1", "disk.status[1]": "normal", "disk.free[1]": 317_270,
        "disk.capacity[1]": 564_270, "disk.volume[2]": "HDD 2",
        "disk.status[2]": "smart_failed", "disk.free[2]": 0, "disk.capacity[2]": 1_000_000,
        "camera.name[1]": "Lobby", "camera.online[1]": "online",
        "camera.name[2]": "Gate <2>", "camera.online[2]": "offline",
    }))  # fmt: skip
    disks, cameras = device_tables(nvr, config.profiles["nvr-hikvision"], meanings["nvr"])
    assert (disks.title, disks.columns) == ("Disks", ("#", "Name", "State", "Free", "Size"))
    assert [c.text for c in disks.rows[0]] == ["1", "HDD 1", "normal", "317 GB", "564 GB"]
    assert [c.text for c in disks.rows[1]] == ["2", "HDD 2", "smart failed", "0 MB", "1.00 TB"]
    assert [c.state for c in disks.rows[1][2:3]] == [State.DEGRADED]
    assert disks.rows[0][3].sort == 317_270.0  # sorted by the number, not the text
    assert cameras.title == "Cameras" and cameras.columns == ("#", "Name", "Video")
    html = table_html(cameras)
    assert '<table class="sortable" data-table="camera">' in html
    assert '<th><button type="button">Video</button></th>' in html
    assert '<td data-v="offline"><span class="fig degraded">▲ offline</span></td>' in html
    assert "Gate &lt;2&gt;" in html and "Gate <2>" not in html

    values: dict[str, Value] = {}
    for port in (1, 2):
        values |= {f"if.name[{port}]": f"GE0/0/{port}", f"if.admin_status[{port}]": "up",
                   f"if.oper_status[{port}]": "up" if port == 1 else "down",
                   f"if.in_errors.rate[{port}]": 0.0, f"if.out_errors.rate[{port}]": 0.5,
                   f"if.in_octets.rate[{port}]": 125_000.0, f"if.out_octets.rate[{port}]": 0.0}  # fmt: skip
    sw = status_of(config, "sw", poll("sw", 0, values))
    ports = device_tables(sw, config.profiles["switch-generic"], meanings["sw"])[0]
    assert ports.columns == ("#", "Name", "Enabled", "Link", "Errors in",
                             "Errors out", "Traffic in", "Traffic out")  # fmt: skip
    assert [c.text for c in ports.rows[1]] == ["2", "GE0/0/2", "up", "down", "0/s", "0.50/s",
                                               "1.00 Mbit/s", "0 bit/s"]  # fmt: skip
    assert ports.rows[0][3].state is State.OK and ports.rows[1][3].state is None


def test_charts_are_for_series_worth_one_found_by_meaning(tmp_path: Path) -> None:
    config = load_config(write_site(tmp_path, DEVICES))
    meanings = site_meanings(config)
    sw = status_of(config, "sw", poll("sw", 0, {
        "sensor.type[1]": "celsius", "sensor.precision[1]": 1, "sensor.value[1]": 415,
        "sensor.type[2]": "rpm", "sensor.precision[2]": 0, "sensor.value[2]": 4200,
    }))  # fmt: skip
    points = ["reachable", "rtt", "sys.uptime", "sys.date", "if.in_octets.rate",
              "if.out_octets.rate", "if.in_errors.rate", "sensor.value", "if.speed"]  # fmt: skip
    wanted = worth_charting(points, meanings["sw"], sw)
    assert [(w.point, w.title, w.unit) for w in wanted] == [
        ("if.in_octets.rate", "Traffic in", "B/s"),
        ("if.out_octets.rate", "Traffic out", "B/s"),
        ("if.in_errors.rate", "Errors", "/s"),
        ("sensor.value", "Temperatures", "°C"),  # the celsius sensors, in degrees
        ("rtt", "Round trip", "ms"),
    ]  # no clock, no uptime, no reachability, no speed
    assert wanted[3].only == {"1": 0.1}
