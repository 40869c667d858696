"""The control endpoint's HTTP API, spoken to with a raw HTTP client."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest

from tests.simulators.conftest import SimFleet

pytestmark = pytest.mark.integration


def call(sim: SimFleet, method: str, path: str, body: bytes | None = None) -> tuple[int, Any]:
    host, port = sim.control.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request(method, path, body=body)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_reads(sim: SimFleet) -> None:
    assert call(sim, "GET", "/health") == (200, {"status": "ok", "devices": 7})
    status, state = call(sim, "GET", "/devices/nvr")
    assert status == 200
    assert state["kind"] == "nvr" and state["protocol"] == "snmp" and state["answering"]
    assert state["parent"] == "sw-acc" and state["faults"] == []
    status, catalogue = call(sim, "GET", "/faults")
    assert status == 200 and set(catalogue) == {"switch", "nvr", "pbx", "ups", "alarm_panel"}
    assert catalogue["pbx"]["trunk_down"]["params"] == {"trunk": "trunk number or 'all'"}


def test_inject_and_clear(sim: SimFleet) -> None:
    body = json.dumps({"fault": "camera_offline", "params": {"count": 2}}).encode()
    status, answer = call(sim, "POST", "/devices/nvr/faults", body)
    assert status == 200 and answer["injected"] == {"fault": "camera_offline",
                                                    "params": {"count": 2}}  # fmt: skip
    status, answer = call(sim, "DELETE", "/devices/nvr/faults/camera_offline")
    assert status == 200 and answer["cleared"] == [{"fault": "camera_offline",
                                                    "params": {"count": 2}}]  # fmt: skip
    assert answer["device"]["faults"] == []


def test_errors(sim: SimFleet) -> None:
    assert call(sim, "GET", "/nowhere")[0] == 404
    assert call(sim, "GET", "/devices/ghost")[0] == 404
    assert call(sim, "DELETE", "/devices")[0] == 405
    assert call(sim, "PUT", "/devices/nvr/faults")[0] == 405
    status, answer = call(sim, "POST", "/devices/nvr/faults", b"{not json")
    assert status == 400 and "not JSON" in answer["error"]
    status, answer = call(sim, "POST", "/devices/nvr/faults", b'{"params": {}}')
    assert status == 400 and "'fault'" in answer["error"]
    body = json.dumps({"fault": "disk_failed", "params": {"disk": [1]}}).encode()
    assert call(sim, "POST", "/devices/nvr/faults", body)[0] == 400
    body = json.dumps({"fault": "disk_failed", "params": {"disk": 9}}).encode()
    status, answer = call(sim, "POST", "/devices/nvr/faults", body)
    assert status == 400 and "out of range" in answer["error"]
    assert call(sim, "GET", "/devices/nvr")[1]["faults"] == []
