"""Finding 11: maintenance durations that are not numbers a clock can hold are refused
with a message (before: "internal error" over MQTT and a traceback from the CLI); and
a window longer than ``maintenance.max_window`` (24 h unless the site says) is refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gateway.config import load_config
from gateway.correlate import (
    MAINTENANCE_COMMAND_SCHEMA,
    MaintenanceStore,
    handle_maintenance_command,
)
from gateway.uplink.inbound import Inbound
from tests.correlate.kit import SITE, T0, site_config

SPANS: list[Any] = ["99999999999999999999d", "1e300", 1e300, "inf", "nan", "0", "-5m", "1e400s"]


@pytest.fixture
def store(tmp_path: Path) -> MaintenanceStore:
    return MaintenanceStore(tmp_path / "state", SITE)


@pytest.mark.parametrize("span", SPANS)
def test_an_unusable_duration_gets_a_clear_refusal(store: MaintenanceStore, span: Any) -> None:
    body = {"action": "set", "target": "nvr-1", "for": span, "by": "Li"}
    reply = handle_maintenance_command(store, body, now=T0)
    assert reply["ok"] is False
    assert "internal" not in reply["error"]
    assert store.maintenance(T0) == []


@pytest.mark.parametrize("text", [b"Infinity", b"NaN", b"-Infinity", b"1e309"])
async def test_json_infinity_and_nan_over_mqtt_are_refused(
    store: MaintenanceStore, text: bytes
) -> None:
    async def maintenance(body: dict[str, Any]) -> dict[str, Any]:
        return handle_maintenance_command(store, body, now=T0)

    async def no_ack(body: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("not an ack")

    inbound = Inbound(no_ack, {"maintenance": (MAINTENANCE_COMMAND_SCHEMA, maintenance)})
    payload = b'{"action": "set", "target": "nvr-1", "by": "Li", "for": ' + text + b"}"
    reply = await inbound.handle("cmd/maintenance", payload)
    assert reply is not None
    topic, body = reply
    assert topic == "cmd-reply/maintenance"
    assert body["ok"] is False and "internal" not in body["error"], body
    assert store.maintenance(T0) == []


def test_a_window_longer_than_a_day_is_refused_by_default(store: MaintenanceStore) -> None:
    body = {"action": "set", "target": "site", "for": "25h", "by": "Li"}
    reply = handle_maintenance_command(store, body, now=T0)
    assert reply["ok"] is False
    assert "at most 1 d" in reply["error"], reply
    body["for"] = "24h"
    assert handle_maintenance_command(store, body, now=T0)["ok"] is True


@pytest.mark.integration
def test_the_site_sets_the_longest_window(tmp_path: Path) -> None:
    site_config(tmp_path)
    path = tmp_path / "site.yaml"
    path.write_text(path.read_text() + "maintenance: {max_window: 3d}\n")
    config = load_config(path)
    assert config.site_file.maintenance.max_window == 3 * 86400
    result = lvgw_maintenance(path, "--for", "71h")
    assert result.returncode == 0, result.stderr
    result = lvgw_maintenance(path, "--for", "73h")
    assert result.returncode == 2 and "at most 3 d" in result.stderr, result.stderr


def lvgw_maintenance(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway",
            "maintenance",
            "set",
            "nvr-1",
            "-c",
            str(site),
            "--by",
            "Li",
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.integration
@pytest.mark.parametrize("span", ["99999999999999999999d", "1e300", "inf", "nan"])
def test_the_cli_refuses_them_without_a_traceback(tmp_path: Path, span: str) -> None:
    site_config(tmp_path)
    result = lvgw_maintenance(tmp_path / "site.yaml", "--for", span)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("lvgw maintenance: "), result.stderr


@pytest.mark.integration
def test_a_duration_in_the_site_file_must_be_finite(tmp_path: Path) -> None:
    site_config(tmp_path)
    path = tmp_path / "site.yaml"
    path.write_text(path.read_text() + "maintenance: {max_window: .inf}\n")
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "check-config", "-c", str(path)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stdout
    assert "max_window" in result.stderr and "finite" in result.stderr, result.stderr
