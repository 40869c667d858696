"""The site for someone who is not at the box: ``cmd/report`` and ``cmd/status`` asked
over the broker of the running gateway (`lvgw run` on the simulated fleet, real
mosquitto), answered with what `lvgw report` and `lvgw status --json` print on the box."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from gateway.remote import send_command
from tests.e2e.conftest import FleetSite, lvgw_status

SITE = "site-e2e"
REPLY_BYTES = 8192  # the fleet's HTML report (about 17 kB) comes in several parts
SITE_LIMITS = {"mqtt_reply_bytes": REPLY_BYTES}
NO_HISTORY = "no history in the metric store"
# Figures move between two readings of the running site (the time, "last poll 1s
# ago", a round trip time, a device's clock): two reports are compared with every
# figure replaced by a mark, everything else (devices, states, sections, wording) equal.
FIGURES = re.compile(r"\d(?:[\d,.]*\d)?")


def broker_of(site: FleetSite) -> int:
    port: int = yaml.safe_load(site.config.read_text())["uplink"]["mqtt"]["port"]
    return port


async def ask(site: FleetSite, name: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return await send_command("127.0.0.1", broker_of(site), SITE, name, body, wait=30, **kw)


async def lvgw_report(config: Path, fmt: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "report", "-c", str(config), "--format", fmt,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_status_over_mqtt_is_lvgw_status_json(site: FleetSite) -> None:
    # The snapshot is rewritten every few seconds: compare the two readings of the same
    # one (same generated_at), which must then be equal in every field.
    for _ in range(10):
        reply = await ask(site, "status", {})
        local = json.loads(await lvgw_status(site.config, "--json"))
        assert reply["ok"] is True, reply
        if reply["status"]["generated_at"] == local["generated_at"]:
            assert reply["status"] == local
            return
    raise AssertionError("never caught the same snapshot twice in 10 tries")


async def test_report_over_mqtt_is_lvgw_reports(site: FleetSite) -> None:
    # The metric store writes its first samples a few seconds after the start: until
    # then a report made a moment later can have history the other lacked.
    async with asyncio.timeout(60):
        while NO_HISTORY in await lvgw_report(site.config, "md"):
            await asyncio.sleep(1)
    for fmt in ("md", "html", "json"):
        reply = await ask(site, "report", {"format": fmt}, joined="report")
        local = await lvgw_report(site.config, fmt)
        assert reply["ok"] is True and reply["format"] == fmt, reply
        assert FIGURES.sub("T", reply["report"]) == FIGURES.sub("T", local), fmt
    document = json.loads(reply["report"])
    assert {d["id"] for d in document["devices"]} >= {"nvr", "pbx", "ups", "panel"}


async def test_a_report_larger_than_a_message_comes_in_parts(site: FleetSite) -> None:
    """The HTML report of the fleet is over the site's reply limit: several parts, each
    within the limit, numbered in order (their joining: the test above)."""
    parts: list[dict[str, Any]] = []
    replies = await collect_report(broker_of(site), "html", parts)
    assert replies["ok"] is True
    assert len(parts) >= 2, [len(json.dumps(p)) for p in parts]
    assert all(len(json.dumps(p).encode()) <= REPLY_BYTES for p in parts)
    assert [p["part"] for p in parts] == list(range(1, len(parts) + 1))
    assert {p["parts"] for p in parts} == {len(parts)}


async def collect_report(port: int, fmt: str, into: list[dict[str, Any]]) -> dict[str, Any]:
    """The raw parts of one report, as they arrive, through a client of our own."""
    import aiomqtt

    prefix = f"lvgw/v1/{SITE}/"
    async with aiomqtt.Client("127.0.0.1", port, identifier="parts-reader") as client:
        await client.subscribe(prefix + "cmd-reply/report", qos=1)
        await client.publish(
            prefix + "cmd/report", json.dumps({"format": fmt, "request_id": "big"}), qos=1
        )
        async with asyncio.timeout(30):
            async for message in client.messages:
                body = json.loads(bytes(message.payload))
                if body.get("request_id") != "big":
                    continue
                into.append(body)
                if not body.get("ok") or body["part"] == body["parts"]:
                    return dict(body)
    raise AssertionError("unreachable")


async def test_bad_report_requests_get_clear_errors(site: FleetSite) -> None:
    reply = await ask(site, "report", {"format": "pdf"})
    assert reply["ok"] is False and reply["error"].startswith("invalid format"), reply
    reply = await ask(site, "report", {"device": "no-such-device"})
    assert reply == {"ok": False, "error": "no device 'no-such-device' at this site",
                     "request_id": reply["request_id"]}  # fmt: skip
    # The gateway carries on: a good request right after is answered.
    assert (await ask(site, "status", {}))["ok"] is True
