"""docs/metrics.md holds the schema as the code makes it, and the Grafana dashboard
asks only for what it defines."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gateway.metrics.fielddocs import gateway_table, profile_table, shipped_profiles

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "metrics.md").read_text()
DASHBOARD = ROOT / "docs" / "grafana" / "lvgw-site.json"

_ROW = re.compile(r"^\| `(lvgw_\w+)` \| `([^`]+)` \| ([^|]+?) \|", re.MULTILINE)
_TAG_ROW = re.compile(r"^\| `(\w+)` \| [^|]+ \| [^|]+ \|$", re.MULTILINE)
# Flux columns every table has, besides the tags.
_FLUX_COLUMNS = {"_measurement", "_field", "_value", "_time", "_start", "_stop"}


def documented() -> tuple[dict[str, set[str]], set[str]]:
    """Measurement -> its fields and tag-valued points, and the documented tag keys."""
    fields: dict[str, set[str]] = {}
    for measurement, name, kind in _ROW.findall(DOC):
        if kind in ("float", "integer", "state") or kind.startswith("tag"):
            fields.setdefault(measurement, set()).add(name)
    tags = set(_TAG_ROW.findall(DOC.split("### Tags", 1)[1].split("###", 1)[0]))
    return fields, tags


@pytest.mark.parametrize("profile_id", sorted(shipped_profiles()))
def test_the_doc_holds_every_shipped_profiles_fields_as_generated(profile_id: str) -> None:
    table = profile_table(shipped_profiles()[profile_id])
    assert table in DOC, (
        f"docs/metrics.md is out of date for {profile_id}: "
        "paste `.venv/bin/python -m gateway.metrics.fielddocs`"
    )


def test_the_doc_holds_the_gateway_fields_as_generated() -> None:
    assert gateway_table() in DOC


def test_the_doc_defines_measurements_fields_and_tags() -> None:
    fields, tags = documented()
    assert set(fields) == {"lvgw_device", "lvgw_device_info", "lvgw_gateway"}
    assert {"reachable", "rtt", "if.oper_status", "ups.charge", "zone.status.alarm"} <= fields[
        "lvgw_device"
    ]
    assert {"site", "device", "kind", "table", "instance", "label"} <= tags


def _targets(dashboard: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(panel title, target) for every query of every panel, rows' panels included."""
    out = []
    for panel in dashboard["panels"]:
        for inner in [panel, *panel.get("panels", [])]:
            out += [(inner["title"], target) for target in inner.get("targets", [])]
    return out


def _check_query(where: str, query: str, fields: dict[str, set[str]], tags: set[str]) -> None:
    measurements = re.findall(r'r\._measurement == "([^"]+)"', query)
    assert measurements, f"{where}: no measurement named"
    for measurement in measurements:
        assert measurement in fields, f"{where}: {measurement} is not in docs/metrics.md"
    known = set().union(*(fields[m] for m in measurements))
    for field in re.findall(r'r\._field == "([^"]+)"', query):
        assert field in known, f"{where}: field {field} of {measurements} is not documented"
    for column in re.findall(r'r\["([^"]+)"\]', query):  # pivoted fields
        assert column in known, f"{where}: {column} is not a documented field"
    for column in re.findall(r"\br\.(\w+)", query):
        assert column in tags | _FLUX_COLUMNS, f"{where}: tag {column} is not documented"
    for column in re.findall(r"columns: \[([^\]]*)\]", query):
        for name in re.findall(r'"([^"]+)"', column):
            assert name in tags | _FLUX_COLUMNS, f"{where}: keeps unknown column {name}"
    assert 'r.site == "${site}"' in query, f"{where}: not limited to the chosen site"


def test_the_dashboard_asks_only_for_documented_series() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    fields, tags = documented()
    targets = _targets(dashboard)
    assert len(targets) >= 20
    for title, target in targets:
        _check_query(title, target["query"], fields, tags)
    asked = {f for _, t in targets for f in re.findall(r'r\._field == "([^"]+)"', t["query"])}
    # What the dashboard is for: reachability, RTT, interfaces, UPS battery, NVR disks,
    # panel battery and zones, the gateway's health.
    assert {
        "reachable", "rtt", "if.in_octets.rate", "if.in_errors.rate", "ups.charge",
        "disk.status", "disk.free", "panel.battery_voltage", "zone.status.alarm",
        "poll.duration_avg", "outbox.backlog_messages", "mqtt.connected", "process.rss_bytes",
    } <= asked  # fmt: skip


def test_the_dashboard_takes_its_data_source_from_a_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "influxdb"
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "influxdb", "uid": "${datasource}"}, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
    fields, tags = documented()
    for name in ("site", "device"):  # the variables' own queries name documented series
        query = variables[name]["query"]
        assert variables[name]["datasource"]["uid"] == "${datasource}"
        for measurement in re.findall(r'r\._measurement == "([^"]+)"', query):
            assert measurement in fields
        assert re.search(rf'tag: "{name}"', query)
        assert name in tags
