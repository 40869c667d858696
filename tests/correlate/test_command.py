"""The cmd/maintenance MQTT command: validated, answered, never a crash."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.correlate import (
    MAINTENANCE_COMMAND_SCHEMA,
    MaintenanceStore,
    handle_maintenance_command,
)
from gateway.uplink.inbound import Inbound
from tests.correlate.kit import SITE, T0


@pytest.fixture
def store(tmp_path: Path) -> MaintenanceStore:
    return MaintenanceStore(tmp_path / "state", SITE)


def run(store: MaintenanceStore, **payload: Any) -> dict[str, Any]:
    return handle_maintenance_command(store, payload, now=T0)


def test_set_for_a_duration_then_list_then_clear(store: MaintenanceStore) -> None:
    reply = run(store, action="set", target="nvr-1", by="Li Wei", reason="disk", request_id="r1")
    assert reply == {"ok": False, "request_id": "r1", "action": "set",
                     "error": "give either an end time (until) or a duration (for), not both"}  # fmt: skip
    reply = run(store, action="set", target="nvr-1", **{"for": "2h"}, by="Li Wei", reason="disk")
    window = {
        "target": "nvr-1",
        "until": "2026-01-05T11:00:00Z",
        "by": "Li Wei",
        "reason": "disk",
        "set_at": "2026-01-05T09:00:00Z",
    }
    assert reply == {"ok": True, "action": "set", "window": window, "windows": [window]}
    assert run(store, action="list") == {"ok": True, "action": "list", "windows": [window]}
    assert store.path.exists()  # the same file `lvgw maintenance` uses
    reply = run(store, action="clear", target="nvr-1", request_id="r2")
    assert reply == {
        "ok": True,
        "request_id": "r2",
        "action": "clear",
        "ended": window,
        "windows": [],
    }


def test_set_until_a_time_for_the_site(store: MaintenanceStore) -> None:
    reply = run(store, action="set", target="site", until="2026-01-05T18:00:00+08:00", by="Zhang")
    assert reply["ok"] and reply["window"]["until"] == "2026-01-05T10:00:00Z"


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"action": "pause"}, "invalid action: 'pause' is not one of ['set', 'clear', 'list']"),
        ({}, "invalid message: 'action' is a required property"),
        ({"action": "set", "target": "nvr-1", "for": "1h"}, "set needs by"),
        ({"action": "clear"}, "clear needs target"),
        ({"action": "list", "colour": "red"}, "Additional properties are not allowed"),
        ({"action": "set", "target": "nvr-1", "for": -5, "by": "Li"}, "invalid for"),
        ({"action": "set", "target": "nvr-1", "for": "soon", "by": "Li"}, "not a duration"),
        ({"action": "set", "target": "cam-9", "for": "1h", "by": "Li"}, "no device 'cam-9'"),
        ({"action": "set", "target": "nvr-1", "for": "25h", "by": "Li"}, "at most 1 d"),
        (
            {"action": "set", "target": "nvr-1", "until": "2026-01-05T08:00:00Z", "by": "Li"},
            "is in the past",
        ),
        ({"action": "clear", "target": "nvr-1"}, "device 'nvr-1' is not in maintenance"),
        (
            {"action": "set", "target": 7, "for": "1h", "by": "Li"},
            "invalid target: 7 is not of type",
        ),
    ],
)
def test_bad_requests_get_an_error_reply(
    store: MaintenanceStore, payload: dict[str, Any], error: str
) -> None:
    reply = handle_maintenance_command(store, payload, now=T0)
    assert reply["ok"] is False
    assert error in reply["error"]
    assert store.maintenance(T0) == []


def test_a_store_that_cannot_write_is_an_error_reply(store: MaintenanceStore) -> None:
    store.path.parent.write_text("not a directory")
    reply = run(store, action="set", target="nvr-1", **{"for": "1h"}, by="Li")
    assert reply["ok"] is False
    assert reply["error"].startswith("the gateway could not save it:")


async def test_it_plugs_into_the_inbound_command_dispatch(store: MaintenanceStore) -> None:
    async def maintenance(body: dict[str, Any]) -> dict[str, Any]:
        return handle_maintenance_command(store, body)

    inbound = Inbound(
        on_ack=maintenance, commands={"maintenance": (MAINTENANCE_COMMAND_SCHEMA, maintenance)}
    )
    body = {"action": "set", "target": "pbx-1", "for": "30m", "by": "Li", "request_id": "x"}
    topic, reply = await inbound.handle("cmd/maintenance", json.dumps(body).encode())  # type: ignore[misc]
    assert topic == "cmd-reply/maintenance"
    assert reply["ok"] is True and reply["request_id"] == "x"
    assert [w.target for w in store.maintenance()] == ["pbx-1"]
    topic, reply = await inbound.handle("cmd/maintenance", b'{"action": "stop"}')  # type: ignore[misc]
    assert reply["ok"] is False and "invalid action" in reply["error"]
